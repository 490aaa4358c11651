package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.ScoreRule;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.gemm.LinearKernel;
import org.lacuna.runtime.testing.TestData;

/** The encoder layer on the CPU backend (the reference of its GPU runs) against its definition. */
class TransformerEncoderLayerTest {
    static final int[] LENGTHS = {5, 1, 70, 0, 33};

    static int[][] sequenceRows(int[] lengths) {
        int[][] rows = new int[lengths.length][];
        int start = 0;
        for (int b = 0; b < lengths.length; b++) {
            rows[b] = IntStream.range(start, start + lengths[b]).toArray();
            start += lengths[b];
        }
        return rows;
    }

    static void assertClose(double[][] want, float[] got, int hidden, int[] rows, double tolerance, String what) {
        for (int r : rows) {
            for (int c = 0; c < hidden; c++) {
                assertEquals(want[r][c], got[r * hidden + c], tolerance, what + ": row " + r + " column " + c);
            }
        }
    }

    @Test
    void denseLayerMatchesItsDefinition() {
        SplittableRandom random = TestData.random("denseEncoder");
        int run = 0;
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            for (boolean causal : new boolean[] {false, true}) {
                int heads = new int[] {1, 2, 4}[run++ % 3]; // head dims 128, 64 and 32, each in every run
                TransformerEncoderLayer.Config config = TransformerEncoderLayer.Config.of(128, heads, 256, dtype)
                        .withCausal(causal);
                TransformerEncoderLayer.Weights weights = TransformerEncoderLayer.Weights.random(config, random.nextLong());
                int tokens = Arrays.stream(LENGTHS).sum();
                float[] x = TestData.uniform(random, tokens * 128, 1f, dtype);
                try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, LENGTHS);
                     Tensor xs = s.fromFloats(x, dtype, tokens, 128)) {
                    TransformerEncoderLayer layer = TransformerEncoderLayer.create(s, config, weights);
                    float[] y = layer.forward(xs, seq).toFloatArray();
                    double[][] want = new EncoderReference(config, weights).block(x, sequenceRows(LENGTHS));
                    assertClose(want, y, 128, IntStream.range(0, tokens).toArray(), EncoderReference.tolerance(dtype),
                            dtype + " heads=" + heads + " causal=" + causal);
                }
            }
        }
    }

    /** Post-norm runs each residual add and its norm as one fused op (checked against the two ops in the conformance). */
    @Test
    void postNormLayerMatchesItsDefinition() {
        SplittableRandom random = TestData.random("postNormEncoder");
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            TransformerEncoderLayer.Config config = TransformerEncoderLayer.Config.of(128, 4, 256, dtype).withPostNorm();
            TransformerEncoderLayer.Weights weights = TransformerEncoderLayer.Weights.random(config, random.nextLong());
            int tokens = Arrays.stream(LENGTHS).sum();
            float[] x = TestData.uniform(random, tokens * 128, 1f, dtype);
            double[][] want = new EncoderReference(config, weights).block(x, sequenceRows(LENGTHS));
            try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, LENGTHS);
                 Tensor xs = s.fromFloats(x, dtype, tokens, 128)) {
                TransformerEncoderLayer layer = TransformerEncoderLayer.create(s, config, weights);
                float[] y = layer.forward(xs, seq).toFloatArray();
                assertClose(want, y, 128, IntStream.range(0, tokens).toArray(), EncoderReference.tolerance(dtype),
                        dtype + " post-norm");
            }
        }
    }

    @Test
    void droppingLayerRunsTheBlockOnTheKeptTokensAndPassesTheRestThrough() {
        SplittableRandom random = TestData.random("droppingEncoder");
        for (double ratio : new double[] {0.7, 0.5, 0.3, 1e-6}) {
            DType dtype = random.nextBoolean() ? DType.F16 : DType.BF16;
            TransformerEncoderLayer.Config config = TransformerEncoderLayer.Config.of(128, 2, 256, dtype)
                    .withTokenDropping(TokenDropping.keep(ratio, ScoreRule.L2_NORM).verifying());
            TransformerEncoderLayer.Weights weights = TransformerEncoderLayer.Weights.random(config, random.nextLong());
            int tokens = Arrays.stream(LENGTHS).sum();
            float[] x = TestData.uniform(random, tokens * 128, 1f, dtype);
            try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, LENGTHS);
                 Tensor xs = s.fromFloats(x, dtype, tokens, 128)) {
                TransformerEncoderLayer layer = TransformerEncoderLayer.create(s, config, weights);
                float[] y = layer.forward(xs, seq).toFloatArray();
                // The L2 norms in double, rounded to float: the backend sums fp32 partials, which picks other rows
                // only where two rows' norms tie within fp32 rounding (random rows make that unlikely).
                float[] norms = new float[tokens];
                for (int r = 0; r < tokens; r++) {
                    double acc = 0;
                    for (int c = 0; c < 128; c++) {
                        acc += (double) x[r * 128 + c] * x[r * 128 + c];
                    }
                    norms[r] = (float) Math.sqrt(acc);
                }
                int[][] kept = keptRows(norms, LENGTHS, config.tokenDropping().rule());
                double[][] want = new EncoderReference(config, weights).block(x, kept);
                String what = dtype + " ratio=" + ratio;
                boolean[] isKept = new boolean[tokens];
                for (int[] members : kept) {
                    assertClose(want, y, 128, members, EncoderReference.tolerance(dtype), what);
                    for (int r : members) {
                        isKept[r] = true;
                    }
                }
                for (int r = 0; r < tokens; r++) {
                    if (!isKept[r]) {
                        for (int c = 0; c < 128; c++) {
                            assertEquals(Float.floatToRawIntBits(x[r * 128 + c]), Float.floatToRawIntBits(y[r * 128 + c]),
                                    what + ": dropped row " + r + " changed");
                        }
                    }
                }
                int start = 0;
                for (int b = 0; b < LENGTHS.length; b++) {
                    int length = LENGTHS[b];
                    long expected = Math.max(((SelectionRule.KeepRatio) config.tokenDropping().rule().budget())
                            .keep(length), Math.min(1, length));
                    assertEquals(expected, kept[b].length, what + ": tokens kept in sequence " + b);
                    if (length > 0) {
                        assertTrue(isKept[start], what + ": the CLS token at row " + start + " was dropped");
                    }
                    start += length;
                }
            }
        }
    }

    /** The kept rows of each sequence under {@code rule}, from the definition (sort by score, ties by position). */
    static int[][] keptRows(float[] scores, int[] lengths, SelectionRule rule) {
        int[][] kept = new int[lengths.length][];
        int start = 0;
        for (int b = 0; b < lengths.length; b++) {
            int length = lengths[b];
            int prefix = Math.min(rule.pinnedPrefix(), length);
            List<Integer> free = new ArrayList<>();
            for (int p = prefix; p < length; p++) {
                free.add(p);
            }
            int s0 = start;
            free.sort((i, j) -> Float.compare(scores[s0 + j], scores[s0 + i]) != 0
                    ? Float.compare(scores[s0 + j], scores[s0 + i]) : Integer.compare(i, j));
            long want = ((SelectionRule.KeepRatio) rule.budget()).keep(length);
            boolean[] keep = new boolean[length];
            for (int p = 0; p < prefix; p++) {
                keep[p] = true;
            }
            for (int i = 0; i < Math.max(0, want - prefix); i++) {
                keep[free.get(i)] = true;
            }
            kept[b] = IntStream.range(0, length).filter(p -> keep[p]).map(p -> s0 + p).toArray();
            start += length;
        }
        return kept;
    }

    @Test
    void keepRatioOneIsExactlyTheDenseLayer() {
        SplittableRandom random = TestData.random("keepAll");
        TransformerEncoderLayer.Config dense = TransformerEncoderLayer.Config.of(128, 1, 192, DType.F16);
        TransformerEncoderLayer.Weights weights = TransformerEncoderLayer.Weights.random(dense, random.nextLong());
        int tokens = Arrays.stream(LENGTHS).sum();
        float[] x = TestData.uniform(random, tokens * 128, 1f, DType.F16);
        try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, LENGTHS);
             Tensor xs = s.fromFloats(x, DType.F16, tokens, 128)) {
            float[] a = TransformerEncoderLayer.create(s, dense, weights).forward(xs, seq).toFloatArray();
            float[] b = TransformerEncoderLayer.create(s, dense.withTokenDropping(TokenDropping.keep(1.0,
                    ScoreRule.L2_NORM)), weights).forward(xs, seq).toFloatArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), "element " + i);
            }
        }
    }

    @Test
    void anEncoderPassesTheClsAttentionOfOneLayerToTheNext() {
        SplittableRandom random = TestData.random("encoderStack");
        for (ScoreRule rule : new ScoreRule[] {ScoreRule.CLS_ATTENTION, ScoreRule.MEAN_ATTENTION_RECEIVED}) {
            DType dtype = DType.F16;
            TransformerEncoderLayer.Config first = TransformerEncoderLayer.Config.of(128, 2, 256, dtype);
            TransformerEncoderLayer.Config second = first.withTokenDropping(TokenDropping.keep(0.5, rule));
            TransformerEncoderLayer.Weights w0 = TransformerEncoderLayer.Weights.random(first, random.nextLong());
            TransformerEncoderLayer.Weights w1 = TransformerEncoderLayer.Weights.random(second, random.nextLong());
            int tokens = Arrays.stream(LENGTHS).sum();
            float[] x = TestData.uniform(random, tokens * 128, 1f, dtype);
            try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, LENGTHS);
                 Tensor xs = s.fromFloats(x, dtype, tokens, 128)) {
                TransformerEncoder encoder = TransformerEncoder.create(s, List.of(first, second), List.of(w0, w1));
                float[] y = encoder.forward(xs, seq).toFloatArray();
                float[] h = encoder.layers().get(0).forward(xs, seq).toFloatArray();
                // Tokens the second layer dropped left it as the first layer made them; it changed every kept one.
                int[][] kept = new int[LENGTHS.length][];
                int start = 0;
                for (int b = 0; b < LENGTHS.length; b++) {
                    List<Integer> changed = new ArrayList<>();
                    for (int r = start; r < start + LENGTHS[b]; r++) {
                        boolean same = true;
                        for (int c = 0; c < 128; c++) {
                            same &= Float.floatToRawIntBits(h[r * 128 + c]) == Float.floatToRawIntBits(y[r * 128 + c]);
                        }
                        if (!same) {
                            changed.add(r);
                        }
                    }
                    kept[b] = changed.stream().mapToInt(Integer::intValue).toArray();
                    assertEquals(LENGTHS[b] == 0 ? 0 : (int) Math.ceil(0.5 * LENGTHS[b] * (1 - 1e-12)), kept[b].length,
                            rule + ": tokens kept in sequence " + b);
                    if (LENGTHS[b] > 0) {
                        assertEquals(start, kept[b][0], rule + ": the CLS token is kept");
                    }
                    start += LENGTHS[b];
                }
                // The kept ones are those the first layer's attention ranked highest (up to rounding at the boundary).
                EncoderReference firstLayer = new EncoderReference(first, w0);
                double[] scores = rule == ScoreRule.CLS_ATTENTION ? firstLayer.clsAttention(x, sequenceRows(LENGTHS))
                        : meanReceived(first, w0, x);
                start = 0;
                for (int b = 0; b < LENGTHS.length; b++) {
                    double lowestKept = Double.POSITIVE_INFINITY;
                    double highestDropped = Double.NEGATIVE_INFINITY;
                    for (int r = start + 1; r < start + LENGTHS[b]; r++) {
                        final int row = r;
                        boolean isKept = Arrays.stream(kept[b]).anyMatch(k -> k == row);
                        if (isKept) {
                            lowestKept = Math.min(lowestKept, scores[r]);
                        } else {
                            highestDropped = Math.max(highestDropped, scores[r]);
                        }
                    }
                    assertTrue(lowestKept >= highestDropped - 5e-3 * Math.abs(highestDropped) - 1e-5,
                            rule + ": sequence " + b + " kept a token scoring " + lowestKept + " but dropped one scoring "
                                    + highestDropped);
                    start += LENGTHS[b];
                }
                double[][] want = new EncoderReference(second, w1).block(h, kept);
                for (int[] members : kept) {
                    assertClose(want, y, 128, members, EncoderReference.tolerance(dtype), rule.toString());
                }
            }
        }
    }

    /** The mean attention each token received in the first layer (all queries, all heads), from its definition. */
    private static double[] meanReceived(TransformerEncoderLayer.Config config, TransformerEncoderLayer.Weights w,
                                         float[] x) {
        // Σ over queries i of softmax_i[j] = Σ_i (CLS-style row i): reuse the reference row by row.
        double[] total = new double[x.length / config.hidden()];
        int start = 0;
        EncoderReference reference = new EncoderReference(config, w);
        for (int length : LENGTHS) {
            for (int i = 0; i < length; i++) {
                // Rotate the sequence so query i comes first: a CLS-attention of the rotated rows is row i's softmax.
                int[] rotated = new int[length];
                for (int k = 0; k < length; k++) {
                    rotated[k] = start + (i + k) % length;
                }
                double[] row = reference.clsAttention(x, new int[][] {rotated});
                for (int k = 0; k < length; k++) {
                    total[start + k] += row[start + k] / length;
                }
            }
            start += length;
        }
        return total;
    }

    @Test
    void givenScoresAndPinsChooseExactlyTheKeptTokens() {
        SplittableRandom random = TestData.random("givenScores");
        TransformerEncoderLayer.Config config = TransformerEncoderLayer.Config.of(128, 2, 128, DType.BF16)
                .withTokenDropping(new TokenDropping(SelectionRule.keepRatio(0.3), ScoreRule.GIVEN, true));
        TransformerEncoderLayer.Weights weights = TransformerEncoderLayer.Weights.random(config, random.nextLong());
        int tokens = Arrays.stream(LENGTHS).sum();
        float[] x = TestData.uniform(random, tokens * 128, 1f, DType.BF16);
        float[] scores = new float[tokens];
        for (int i = 0; i < tokens; i++) {
            scores[i] = i % 7; // many ties: the earliest win
        }
        int[] pins = new int[tokens];
        pins[tokens - 1] = 1;
        try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, LENGTHS);
             Tensor xs = s.fromFloats(x, DType.BF16, tokens, 128); Tensor ss = s.fromFloats(scores, DType.F32, tokens);
             Tensor ps = s.fromInts(pins, tokens)) {
            TransformerEncoderLayer layer = TransformerEncoderLayer.create(s, config, weights);
            TransformerEncoderLayer.Output out = layer.forward(xs, seq, ss, ps, KeyScore.CLS);
            float[] y = out.hidden().toFloatArray();
            float[] emitted = out.keyScores().toFloatArray();
            int last = LENGTHS.length - 1;
            int lastStart = tokens - LENGTHS[last];
            // The last sequence (33 tokens): ceil(0.3·33) = 10 kept, the pinned last token one of them.
            List<Integer> keptLast = new ArrayList<>();
            for (int r = lastStart; r < tokens; r++) {
                boolean same = true;
                for (int c = 0; c < 128; c++) {
                    same &= Float.floatToRawIntBits(x[r * 128 + c]) == Float.floatToRawIntBits(y[r * 128 + c]);
                }
                if (!same) {
                    keptLast.add(r);
                }
                assertEquals(same, emitted[r] == 0f, "a token has received-attention scores iff it was kept");
            }
            assertEquals(10, keptLast.size());
            assertTrue(keptLast.contains(tokens - 1), "the pinned token is kept");
            // Of the others, the nine best by score, ties to the earlier: scores 6 and 5 first.
            List<Integer> expected = new ArrayList<>();
            List<Integer> order = new ArrayList<>(IntStream.range(lastStart, tokens - 1).boxed().toList());
            order.sort((i, j) -> scores[i] != scores[j] ? Float.compare(scores[j], scores[i]) : Integer.compare(i, j));
            expected.addAll(order.subList(0, 9));
            expected.add(tokens - 1);
            expected.sort(Integer::compare);
            assertEquals(expected, keptLast);
            double sum = 0;
            for (int r : keptLast) {
                sum += emitted[r];
            }
            assertEquals(1.0, sum, 1e-3, "the CLS token's attention over the kept tokens sums to one");
        }
    }

    @ParameterizedTest
    @EnumSource(value = TwoFourScope.class, names = {"FFN", "ALL"})
    void twoFourPrunedLinearsServeTheLayer(TwoFourScope scope) {
        SplittableRandom random = TestData.random("twoFourEncoder-" + scope);
        TransformerEncoderLayer.Config config = TransformerEncoderLayer.Config.of(128, 2, 256, DType.F16).withTwoFour(scope);
        TransformerEncoderLayer.Weights weights = TransformerEncoderLayer.Weights.random(config, random.nextLong());
        int tokens = Arrays.stream(LENGTHS).sum();
        float[] x = TestData.uniform(random, tokens * 128, 1f, DType.F16);
        try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, LENGTHS);
             Tensor xs = s.fromFloats(x, DType.F16, tokens, 128)) {
            TransformerEncoderLayer layer = TransformerEncoderLayer.create(s, config, weights);
            List<Linear> linears = layer.linears(); // Q/K/V, output projection, FC1, FC2
            for (int i = 0; i < linears.size(); i++) {
                boolean pruned = i >= 2 || scope == TwoFourScope.ALL;
                assertEquals(pruned, linears.get(i).statistics().twoFourConformant(), "linear " + i + " pruned");
                assertEquals(pruned ? LinearKernel.TWO_FOUR : LinearKernel.DENSE, linears.get(i).candidates().get(0),
                        "linear " + i + " first kernel");
            }
            float[] y = layer.forward(xs, seq).toFloatArray();
            double[][] want = new EncoderReference(config, weights).block(x, sequenceRows(LENGTHS));
            assertClose(want, y, 128, IntStream.range(0, tokens).toArray(), EncoderReference.tolerance(DType.F16),
                    "2:4 " + scope);
        }
    }

    @Test
    void badConfigurationsAndInputsGetClearErrors() {
        assertEquals(ErrorCode.DTYPE_MISMATCH, assertThrows(InvalidInputException.class,
                () -> TransformerEncoderLayer.Config.of(128, 2, 256, DType.F32)).code());
        assertTrue(assertThrows(InvalidInputException.class, () -> TransformerEncoderLayer.Config.of(96, 1, 256, DType.F16))
                .getMessage().contains("head dim must be 32, 64 or 128"));
        assertThrows(InvalidInputException.class, () -> TransformerEncoderLayer.Config.of(130, 3, 256, DType.F16));
        assertThrows(InvalidInputException.class, () -> TokenDropping.keep(0, ScoreRule.L2_NORM));
        assertThrows(InvalidInputException.class, () -> TokenDropping.keep(1.01, ScoreRule.L2_NORM));
        TransformerEncoderLayer.Config dense = TransformerEncoderLayer.Config.of(64, 1, 64, DType.F16);
        TransformerEncoderLayer.Weights weights = TransformerEncoderLayer.Weights.random(dense, 1);
        try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, 3, 2)) {
            TransformerEncoderLayer.Config byCls = dense.withTokenDropping(TokenDropping.keep(0.5, ScoreRule.CLS_ATTENTION));
            assertTrue(assertThrows(InvalidInputException.class, () -> TransformerEncoder.create(s, List.of(byCls),
                    List.of(weights))).getMessage().contains("no layer before it"));
            TransformerEncoderLayer.Config given = dense.withTokenDropping(TokenDropping.keep(0.5, ScoreRule.GIVEN));
            assertThrows(InvalidInputException.class, () -> TransformerEncoder.create(s, List.of(dense, given),
                    List.of(weights, weights)));
            TransformerEncoderLayer layer = TransformerEncoderLayer.create(s, given, weights);
            try (Tensor x = s.fromFloats(new float[5 * 64], DType.F16, 5, 64);
                 Tensor wrong = s.fromFloats(new float[4 * 64], DType.F16, 4, 64)) {
                assertTrue(assertThrows(InvalidInputException.class, () -> layer.forward(x, seq)).getMessage()
                        .contains("needs the scores"));
                assertEquals(ErrorCode.SHAPE_MISMATCH, assertThrows(InvalidInputException.class,
                        () -> layer.forward(wrong, seq)).code());
                float[] nan = {0, 1, Float.NaN, 3, 4};
                try (Tensor scores = s.fromFloats(nan, DType.F32, 5)) {
                    assertTrue(assertThrows(InvalidInputException.class, () -> layer.forward(x, seq, scores, null, null))
                            .getMessage().contains("NaN"));
                }
            }
        }
    }

    @Test
    void forwardPassesReleaseTheirTemporariesAndTheSessionFreesTheLayers() {
        TransformerEncoderLayer.Config config = TransformerEncoderLayer.Config.of(64, 1, 64, DType.F16)
                .withTokenDropping(TokenDropping.keep(0.5, ScoreRule.L2_NORM));
        Session s = Lacuna.open("cpu", 0);
        Sequences seq = Sequences.of(s, 7, 9);
        TransformerEncoderLayer layer = TransformerEncoderLayer.create(s, config,
                TransformerEncoderLayer.Weights.random(config, 3));
        Tensor x = s.fromFloats(TestData.uniform(new SplittableRandom(4), 16 * 64, 1f, DType.F16), DType.F16, 16, 64);
        long before = s.memoryStats().inUseBytes();
        TransformerEncoderLayer.Output out = layer.forward(x, seq, null, null, KeyScore.MEAN_RECEIVED);
        assertFalse(out.hidden().isClosed());
        out.hidden().close();
        out.keyScores().close();
        assertEquals(before, s.memoryStats().inUseBytes(), "a forward pass leaves nothing behind");
        assertNull(layer.forward(x, seq, null, null, null).keyScores());
        s.close();
        assertEquals(0, s.memoryStats().inUseBytes());
        assertNotEquals(0, before);
    }

    @Test
    void layerNormMatchesTheFormula() {
        try (Session s = Lacuna.open("cpu", 0); Tensor x = s.fromFloats(new float[] {1, 2, 3, 4, -1, -1, -1, 5},
                DType.F32, 2, 4)) {
            LayerNorm norm = LayerNorm.create(s, new float[] {1, 1, 2, 2}, new float[] {0, 0, 0, 1}, 1e-5);
            float[] y = norm.forward(x).toFloatArray();
            double sd = Math.sqrt(1.25 + 1e-5);
            assertEquals(-1.5 / sd, y[0], 1e-6);
            assertEquals(2 * 1.5 / sd + 1, y[3], 1e-6);
            double sd2 = Math.sqrt(6.75 + 1e-5);
            assertEquals(2 * 4.5 / sd2 + 1, y[7], 1e-5);
            // x + residual, normalised in one op: a residual of zeros gives the plain norm's bits.
            try (Tensor zeros = s.fromFloats(new float[8], DType.F32, 2, 4)) {
                assertTrue(Arrays.equals(y, norm.forwardResidual(x, zeros).toFloatArray()));
                InvalidInputException nullResidual = assertThrows(InvalidInputException.class,
                        () -> norm.forwardResidual(x, null));
                assertTrue(nullResidual.getMessage().contains("residual is null"), nullResidual.getMessage());
                assertThrows(InvalidInputException.class, () -> norm.forward(null));
            }
            // Both forwards check each input alike: of this session, and as wide as gamma.
            try (Session other = Lacuna.open("cpu", 0); Tensor foreign = other.fromFloats(new float[8], DType.F32, 2, 4);
                 Tensor narrow = s.fromFloats(new float[6], DType.F32, 2, 3)) {
                // Each refusal names the input it refuses (x or the residual).
                for (Map.Entry<String, org.junit.jupiter.api.function.Executable> call : List.of(
                        Map.<String, org.junit.jupiter.api.function.Executable>entry("x", () -> norm.forward(foreign)),
                        Map.<String, org.junit.jupiter.api.function.Executable>entry("x",
                                () -> norm.forwardResidual(foreign, x)),
                        Map.<String, org.junit.jupiter.api.function.Executable>entry("residual",
                                () -> norm.forwardResidual(x, foreign)))) {
                    InvalidInputException refused = assertThrows(InvalidInputException.class, call.getValue());
                    assertTrue(refused.getMessage().contains(call.getKey() + " belongs to another session"),
                            refused.getMessage());
                }
                for (Map.Entry<String, org.junit.jupiter.api.function.Executable> call : List.of(
                        Map.<String, org.junit.jupiter.api.function.Executable>entry("x", () -> norm.forward(narrow)),
                        Map.<String, org.junit.jupiter.api.function.Executable>entry("x",
                                () -> norm.forwardResidual(narrow, x)),
                        Map.<String, org.junit.jupiter.api.function.Executable>entry("residual",
                                () -> norm.forwardResidual(x, narrow)))) {
                    InvalidInputException refused = assertThrows(InvalidInputException.class, call.getValue());
                    assertEquals(ErrorCode.SHAPE_MISMATCH, refused.code());
                    assertTrue(refused.getMessage().contains(call.getKey() + " [2, 3] must be [..., 4]"),
                            refused.getMessage());
                }
            }
            norm.close();
            norm.close();
            assertThrows(org.lacuna.runtime.error.ResourceClosedException.class, () -> norm.forward(x));
            assertThrows(org.lacuna.runtime.error.ResourceClosedException.class, () -> norm.forwardResidual(x, x));
        }
    }
}

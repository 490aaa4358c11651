package org.lacuna.runtime.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.testing.TestData;

/**
 * What every backend's attention ops must compute, against the definitions evaluated here in double precision
 * ({@link AttentionReference}) on fresh random inputs: both 16-bit types, head dims 32, 64 and 128, causal and not,
 * packed and separate Q/K/V, sequence lengths 0, 1 and off every tile size, ragged batches with rows after the last
 * sequence, keep ratios from 1 down to a single token. Outputs are poisoned (NaN bytes) before each run. Subclasses
 * supply the backend.
 */
public abstract class AttentionConformance extends BackendConformance {
    /** Ragged batches: lengths 1, 0, multiples of the kernels' 64/128 tiles and one past them. */
    protected static final List<int[]> BATCHES = List.of(new int[] {1}, new int[] {5, 0, 130},
            new int[] {64, 129, 1, 200}, new int[] {257}, new int[] {0, 0}, new int[] {128, 3, 63});
    private static final List<DType> HALVES = List.of(DType.F16, DType.BF16);
    /** Every head dim the kernels are built for: 32 (MiniLM, bge-small), 64 (BERT, ViT) and 128. */
    protected static final int[] HEAD_DIMS = {32, 64, 128};

    private final List<DeviceArray> arrays = new ArrayList<>();

    protected AttentionOps ops() {
        return backend.ops().attention();
    }

    /** Frees what a check allocated, whether or not it passed. */
    protected void release() {
        arrays.forEach(a -> a.buffer().close());
        arrays.clear();
    }

    protected DeviceArray track(DeviceArray a) {
        arrays.add(a);
        return a;
    }

    /** As the shared poisoned output, freed by {@link #release}. */
    @Override
    protected DeviceArray poisoned(DType dtype, Shape shape) {
        return track(super.poisoned(dtype, shape));
    }

    protected DeviceArray upload(DType dtype, float[] values, long... dims) {
        return track(HostData.upload(backend, dtype, Shape.of(dims), values));
    }

    protected static int[] offsets(int[] lengths) {
        int[] offsets = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) {
            offsets[b + 1] = offsets[b] + lengths[b];
        }
        return offsets;
    }

    protected SequenceBatch batch(int[] lengths, int tail) {
        int[] offsets = offsets(lengths);
        int max = Arrays.stream(lengths).max().orElse(0);
        return new SequenceBatch(track(HostData.upload(backend, Shape.of(offsets.length), offsets)),
                offsets[lengths.length] + tail, max);
    }

    /** Absolute error allowed on outputs of magnitude <= 1.5: P is rounded to 16 bits before P·V on the GPU. */
    protected static double tolerance(DType dtype) {
        return dtype == DType.BF16 ? 2.5e-2 : 4e-3;
    }

    /** Random inputs of one attention, in the packed layout [rows, 3·width], already representable in dtype. */
    private static float[] randomQkv(SplittableRandom random, long rows, int width, DType dtype) {
        return TestData.uniform(random, Math.toIntExact(rows * 3 * width), 1.5f, dtype);
    }

    private AttentionInputs inputs(float[] qkv, long rows, int width, int headDim, DType dtype, boolean packed) {
        if (packed) {
            return AttentionInputs.packed(upload(dtype, qkv, rows, 3L * width));
        }
        float[][] parts = new float[3][Math.toIntExact(rows * width)];
        for (long r = 0; r < rows; r++) {
            for (int part = 0; part < 3; part++) {
                System.arraycopy(qkv, Math.toIntExact(r * 3 * width + (long) part * width), parts[part],
                        Math.toIntExact(r * width), width);
            }
        }
        // K as [rows, heads, headDim]: any shape of rows x width elements is accepted.
        return AttentionInputs.separate(upload(dtype, parts[0], rows, width),
                upload(dtype, parts[1], rows, width / headDim, headDim),
                upload(dtype, parts[2], rows, width));
    }

    @Test
    void attentionMatchesTheDoubleSoftmax() {
        SplittableRandom random = TestData.random("attention");
        List<int[]> batches = new ArrayList<>(BATCHES);
        batches.add(new int[] {1 + random.nextInt(300), random.nextInt(3), 1 + random.nextInt(200)});
        for (DType dtype : HALVES) {
            for (int headDim : HEAD_DIMS) {
                for (boolean causal : new boolean[] {false, true}) {
                    for (int[] lengths : batches) {
                        int heads = 1 + random.nextInt(3);
                        AttentionOptions options = AttentionOptions.of(heads, headDim).withCausal(causal);
                        if (random.nextBoolean()) {
                            options = options.withScale(1.7 / Math.sqrt(headDim));
                        }
                        try {
                            checkAttention(random, dtype, options, lengths, random.nextInt(4), random.nextBoolean());
                        } finally {
                            release();
                        }
                    }
                }
            }
        }
    }

    private void checkAttention(SplittableRandom random, DType dtype, AttentionOptions options, int[] lengths, int tail,
                                boolean packed) {
        SequenceBatch batch = batch(lengths, tail);
        int width = options.width();
        long rows = batch.rows();
        float[] qkv = randomQkv(random, rows, width, dtype);
        AttentionInputs inputs = inputs(qkv, rows, width, options.headDim(), dtype, packed);
        DeviceArray out = poisoned(dtype, Shape.of(rows, width));
        DeviceArray lse = poisoned(DType.F32, Shape.of(options.heads(), rows));
        ops().attention(inputs, batch, options, out, lse);
        float[] got = HostData.downloadFloats(backend, out);
        float[] gotLse = HostData.downloadFloats(backend, lse);
        String what = dtype + " d=" + options.headDim() + " heads=" + options.heads() + (options.causal() ? " causal" : "")
                + (packed ? " packed" : " separate") + " lengths=" + Arrays.toString(lengths) + " tail=" + tail;
        int[] offsets = offsets(lengths);
        for (int b = 0; b < lengths.length; b++) {
            int[] members = java.util.stream.IntStream.range(offsets[b], offsets[b + 1]).toArray();
            for (int h = 0; h < options.heads(); h++) {
                int column = h * options.headDim();
                AttentionReference.HeadResult want = AttentionReference.head(qkv, qkv, qkv, 3 * width, column,
                        width + column, 2 * width + column, members, options.headDim(), options.scale(), options.causal());
                for (int i = 0; i < members.length; i++) {
                    long row = members[i];
                    for (int d = 0; d < options.headDim(); d++) {
                        float value = got[Math.toIntExact(row * width + column + d)];
                        assertEquals(want.out()[i][d], value, tolerance(dtype), what + ": sequence " + b + " head " + h
                                + " position " + i + " element " + d);
                    }
                    float l = gotLse[Math.toIntExact(h * rows + row)];
                    assertEquals(want.logSumExp()[i], l, 1e-4 * Math.max(1, Math.abs(want.logSumExp()[i])),
                            what + ": logSumExp of sequence " + b + " head " + h + " position " + i);
                }
            }
        }
        for (long row = offsets[lengths.length]; row < rows; row++) {
            for (int c = 0; c < width; c++) {
                assertEquals(0f, got[Math.toIntExact(row * width + c)], 0f, what + ": row " + row + " after the batch");
            }
            for (int h = 0; h < options.heads(); h++) {
                assertEquals(Float.NEGATIVE_INFINITY, gotLse[Math.toIntExact(h * rows + row)], what + ": lse of row " + row);
            }
        }
    }

    /** Keep ratios from everything down to a single token (ceil(1e-6 · n) = 1: the pinned CLS token alone). */
    protected static final double[] KEEP_RATIOS = {1.0, 0.7, 0.5, 0.3, 1e-6};

    @Test
    void tokenDroppingAttendsOverTheKeptTokensAndPassesTheRestThrough() {
        SplittableRandom random = TestData.random("tokenDropping");
        for (double ratio : KEEP_RATIOS) {
            for (boolean causal : new boolean[] {false, true}) {
                int[] lengths = {1 + random.nextInt(260), 1, random.nextInt(3), 64 + random.nextInt(200)};
                DType dtype = HALVES.get(random.nextInt(2));
                int headDim = HEAD_DIMS[random.nextInt(HEAD_DIMS.length)];
                AttentionOptions options = AttentionOptions.of(1 + random.nextInt(2), headDim).withCausal(causal);
                try {
                    checkTokenDropping(random, dtype, options, lengths, random.nextInt(3), ratio);
                } finally {
                    release();
                }
            }
        }
    }

    private void checkTokenDropping(SplittableRandom random, DType dtype, AttentionOptions options, int[] lengths,
                                    int tail, double ratio) {
        SequenceBatch batch = batch(lengths, tail);
        long rows = batch.rows();
        int width = options.width();
        float[] scores = scoresWithTies(random, Math.toIntExact(rows));
        SelectionRule rule = SelectionRule.keepRatio(ratio).pinningPrefix(1);
        String what = dtype + " d=" + options.headDim() + " heads=" + options.heads() + (options.causal() ? " causal" : "")
                + " ratio=" + ratio + " lengths=" + Arrays.toString(lengths) + " tail=" + tail;

        try (TokenSelection selection = TokenSelection.allocate(backend, batch, rule, false)) {
            ops().selectTokens(upload(DType.F32, scores, rows), batch, null, rule, selection);
            selection.verify(backend);
            List<Integer> kept = checkSelection(selection, scores, null, lengths, rule, what);
            int[] offsets = offsets(lengths);
            for (int b = 0; b < lengths.length; b++) {
                if (lengths[b] > 0) {
                    assertTrue(kept.contains(offsets[b]), what + ": the CLS token of sequence " + b + " was dropped");
                }
            }

            float[] qkv = randomQkv(random, rows, width, dtype);
            DeviceArray all = upload(dtype, qkv, rows, 3L * width);
            DeviceArray gathered = poisoned(dtype, Shape.of(selection.capacity(), 3L * width));
            ops().gatherRows(all, selection, gathered);
            float[] g = HostData.downloadFloats(backend, gathered);
            for (int j = 0; j < selection.capacity(); j++) {
                for (int c = 0; c < 3 * width; c++) {
                    float want = j < kept.size() ? qkv[kept.get(j) * 3 * width + c] : 0f;
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(g[j * 3 * width + c]),
                            what + ": gathered row " + j);
                }
            }

            SequenceBatch keptBatch = selection.keptBatch();
            DeviceArray keptOut = poisoned(dtype, Shape.of(selection.capacity(), width));
            ops().attention(AttentionInputs.packed(gathered), keptBatch, options, keptOut, null);
            float[] passThrough = TestData.uniform(random, Math.toIntExact(rows * width), 3f, dtype);
            DeviceArray x = upload(dtype, passThrough, rows, width);
            DeviceArray out = poisoned(dtype, Shape.of(rows, width));
            ops().scatterRows(keptOut, selection, x, out);
            float[] y = HostData.downloadFloats(backend, out);

            for (int b = 0; b < lengths.length; b++) {
                int start = offsets[b];
                int end = offsets[b + 1];
                int[] members = kept.stream().mapToInt(Integer::intValue).filter(r -> r >= start && r < end).toArray();
                for (int h = 0; h < options.heads(); h++) {
                    int column = h * options.headDim();
                    AttentionReference.HeadResult want = AttentionReference.head(qkv, qkv, qkv, 3 * width, column,
                            width + column, 2 * width + column, members, options.headDim(), options.scale(),
                            options.causal());
                    for (int i = 0; i < members.length; i++) {
                        for (int d = 0; d < options.headDim(); d++) {
                            assertEquals(want.out()[i][d], y[members[i] * width + column + d], tolerance(dtype),
                                    what + ": kept row " + members[i] + " head " + h + " element " + d);
                        }
                    }
                }
            }
            for (int r = 0; r < rows; r++) {
                if (!kept.contains(r)) {
                    for (int c = 0; c < width; c++) {
                        assertEquals(Float.floatToRawIntBits(passThrough[r * width + c]),
                                Float.floatToRawIntBits(y[r * width + c]), what + ": dropped row " + r + " changed");
                    }
                }
            }

            if (ratio == 1.0) {
                // Everything kept: the same kernel over the same tokens, so exactly the dense attention.
                assertEquals(batch.rows() - tail, kept.size(), what);
                DeviceArray dense = poisoned(dtype, Shape.of(rows, width));
                ops().attention(AttentionInputs.packed(all), batch, options, dense, null);
                float[] d = HostData.downloadFloats(backend, dense);
                for (int r = 0; r < offsets[lengths.length]; r++) {
                    for (int c = 0; c < width; c++) {
                        assertEquals(Float.floatToRawIntBits(d[r * width + c]), Float.floatToRawIntBits(y[r * width + c]),
                                what + ": keep ratio 1 differs from dense attention at row " + r);
                    }
                }
            }
        }
    }

    /** Scores in [-3, 3) with about a third of them small integers, so ties are common. */
    protected static float[] scoresWithTies(SplittableRandom random, int count) {
        float[] scores = new float[count];
        for (int i = 0; i < count; i++) {
            scores[i] = random.nextInt(3) == 0 ? random.nextInt(-2, 3) : (float) random.nextDouble(-3, 3);
        }
        return scores;
    }

    /** Checks every output of a selection against the definition; returns the kept rows. */
    protected List<Integer> checkSelection(TokenSelection selection, float[] scores, int[] pinMask, int[] lengths,
                                           SelectionRule rule, String what) {
        int[] offsets = offsets(lengths);
        List<Integer> kept = new ArrayList<>();
        int[] counts = new int[lengths.length];
        for (int b = 0; b < lengths.length; b++) {
            List<Integer> rows = AttentionReference.keptRows(scores, pinMask, offsets[b], lengths[b], rule);
            counts[b] = rows.size();
            assertTrue(rows.size() <= selection.maxKeptLength(), what + ": sequence " + b + " keeps " + rows.size()
                    + " tokens, over the bound " + selection.maxKeptLength());
            kept.addAll(rows);
        }
        assertTrue(kept.size() <= selection.capacity(), what + ": kept " + kept.size() + " over capacity");
        int[] keptIndex = HostData.downloadInts(backend, selection.keptIndex());
        int[] slotOf = HostData.downloadInts(backend, selection.slotOf());
        for (int j = 0; j < keptIndex.length; j++) {
            assertEquals(j < kept.size() ? kept.get(j) : -1, keptIndex[j], what + ": keptIndex[" + j + "]");
        }
        for (int r = 0; r < slotOf.length; r++) {
            assertEquals(kept.indexOf(r), slotOf[r], what + ": slotOf[" + r + "]");
        }
        assertArrayEquals(counts, HostData.downloadInts(backend, selection.keptCounts()), what + ": kept counts");
        assertArrayEquals(offsets(counts), HostData.downloadInts(backend, selection.keptOffsets()), what + ": offsets");
        return kept;
    }

    @Test
    void selectionHonoursTiesPinsThresholdsAndWindows() {
        SplittableRandom random = TestData.random("selection");
        try {
            // Ties go to the earlier token; ceil(0.7 · 10) is 7, not 8.
            int[] ten = {10};
            SequenceBatch batch = batch(ten, 0);
            float[] flat = new float[10];
            Arrays.fill(flat, 0.5f);
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), select(batch, flat, null, SelectionRule.keepRatio(0.7), ten));
            // The pinned prefix counts toward the budget, and is kept even when it alone exceeds it.
            float[] rising = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
            assertEquals(List.of(0, 7, 8, 9), select(batch, rising, null,
                    SelectionRule.keepRatio(0.4).pinningPrefix(1), ten));
            assertEquals(List.of(0, 1, 2), select(batch, rising, null,
                    SelectionRule.keepRatio(1e-9).pinningPrefix(3), ten));
            // +0.0 ranks above -0.0 (their bit patterns order them), -inf below every number.
            float[] signed = {-0f, 0f, Float.NEGATIVE_INFINITY, -1f, -0f, 0f, 1f, -2f, -3f, -4f};
            assertEquals(List.of(1, 5, 6), select(batch, signed, null, SelectionRule.keepRatio(0.3), ten));
            // A pin mask keeps a low scorer; the budget still counts it.
            int[] mask = new int[10];
            mask[2] = 1;
            assertEquals(List.of(2, 8, 9), select(batch, rising, mask, SelectionRule.keepRatio(0.3), ten));
            // A threshold can keep nothing: the kept sequence is empty and attention over the kept batch copes.
            int[] two = {4, 3};
            SequenceBatch pair = batch(two, 1);
            float[] scores = {0.1f, 0.9f, 0.5f, 0.2f, 0.1f, 0.2f, 0.3f, 7f};
            assertEquals(List.of(1, 2), select(pair, scores, null, SelectionRule.threshold(0.5f), two));
            checkEmptyKeptSequenceAttends(random, pair, scores);

            // SparseViT windows: a CLS token then a 4x4 grid in 2x2 windows; windows score their mean.
            int[] image = {17};
            SequenceBatch grid = batch(image, 0);
            float[] patches = new float[17];
            patches[0] = -100f; // the CLS token, pinned whatever it scores
            float[] windowMeans = {1f, 4f, 2f, 3f}; // windows top-left, top-right, bottom-left, bottom-right
            for (int p = 0; p < 16; p++) {
                int window = (p / 4 / 2) * 2 + (p % 4) / 2;
                patches[1 + p] = windowMeans[window] + (p % 2 == 0 ? 0.25f : -0.25f);
            }
            SelectionRule windows = SelectionRule.keepRatio(0.5).pinningPrefix(1).inWindows(4, 2, 2);
            // Windows 1 and 3 (means 4 and 3): grid positions 2,3,6,7 and 10,11,14,15, after the CLS token.
            assertEquals(List.of(0, 3, 4, 7, 8, 11, 12, 15, 16), select(grid, patches, null, windows, image));
            // A ragged last grid row makes windows of fewer tokens; ratio 1 keeps every one of them.
            int[] ragged = {1 + 4 + 4 + 3};
            SequenceBatch raggedGrid = batch(ragged, 2);
            float[] raggedScores = scoresWithTies(random, 14);
            assertEquals(java.util.stream.IntStream.range(0, 12).boxed().toList(), select(raggedGrid, raggedScores, null,
                    SelectionRule.keepRatio(1.0).pinningPrefix(1).inWindows(4, 2, 3), ragged));

            // Fresh random batches against the definition, every rule shape.
            for (int trial = 0; trial < 6; trial++) {
                int[] lengths = {random.nextInt(300), 1, random.nextInt(5), random.nextInt(1500)};
                SequenceBatch b = batch(lengths, random.nextInt(3));
                float[] s = scoresWithTies(random, Math.toIntExact(b.rows()));
                int[] pins = new int[s.length];
                for (int i = 0; i < pins.length; i++) {
                    pins[i] = random.nextInt(20) == 0 ? 1 : 0;
                }
                SelectionRule rule = switch (trial % 3) {
                    case 0 -> SelectionRule.keepRatio(KEEP_RATIOS[random.nextInt(KEEP_RATIOS.length)])
                            .pinningPrefix(random.nextInt(3));
                    case 1 -> SelectionRule.threshold((float) random.nextDouble(-1, 1)).pinningPrefix(1);
                    default -> SelectionRule.keepRatio(0.1 + 0.9 * random.nextDouble()).pinningPrefix(random.nextInt(2))
                            .inWindows(1 + random.nextInt(12), 1 + random.nextInt(3), 1 + random.nextInt(4));
                };
                boolean masked = random.nextBoolean();
                try (TokenSelection selection = TokenSelection.allocate(backend, b, rule, masked)) {
                    ops().selectTokens(upload(DType.F32, s, b.rows()), b,
                            masked ? track(HostData.upload(backend, Shape.of(pins.length), pins)) : null, rule, selection);
                    selection.verify(backend);
                    checkSelection(selection, s, masked ? pins : null, lengths, rule, rule + " masked=" + masked
                            + " lengths=" + Arrays.toString(lengths));
                }
            }

            // An empty batch selects nothing and still writes its offsets.
            SequenceBatch empty = new SequenceBatch(track(HostData.upload(backend, Shape.of(1), new int[] {0})), 3, 0);
            try (TokenSelection selection = TokenSelection.allocate(backend, empty, SelectionRule.keepRatio(0.5), false)) {
                ops().selectTokens(upload(DType.F32, new float[3], 3), empty, null, SelectionRule.keepRatio(0.5), selection);
                selection.verify(backend);
                assertArrayEquals(new int[] {0}, HostData.downloadInts(backend, selection.keptOffsets()));
                assertArrayEquals(new int[] {-1, -1, -1}, HostData.downloadInts(backend, selection.slotOf()));
            }
        } finally {
            release();
        }
    }

    private List<Integer> select(SequenceBatch batch, float[] scores, int[] mask, SelectionRule rule, int[] lengths) {
        try (TokenSelection selection = TokenSelection.allocate(backend, batch, rule, mask != null)) {
            DeviceArray pins = mask == null ? null : track(HostData.upload(backend, Shape.of(mask.length), mask));
            ops().selectTokens(upload(DType.F32, scores, scores.length), batch, pins, rule, selection);
            selection.verify(backend);
            return checkSelection(selection, scores, mask, lengths, rule, rule.toString());
        }
    }

    private void checkEmptyKeptSequenceAttends(SplittableRandom random, SequenceBatch batch, float[] scores) {
        SelectionRule rule = SelectionRule.threshold(0.5f);
        AttentionOptions options = AttentionOptions.of(1, 64);
        try (TokenSelection selection = TokenSelection.allocate(backend, batch, rule, false)) {
            ops().selectTokens(upload(DType.F32, scores, scores.length), batch, null, rule, selection);
            float[] qkv = randomQkv(random, batch.rows(), 64, DType.F16);
            DeviceArray gathered = poisoned(DType.F16, Shape.of(selection.capacity(), 192));
            ops().gatherRows(upload(DType.F16, qkv, batch.rows(), 192), selection, gathered);
            DeviceArray out = poisoned(DType.F16, Shape.of(selection.capacity(), 64));
            ops().attention(AttentionInputs.packed(gathered), selection.keptBatch(), options, out, null);
            float[] y = HostData.downloadFloats(backend, out);
            AttentionReference.HeadResult want = AttentionReference.head(qkv, qkv, qkv, 192, 0, 64, 128,
                    new int[] {1, 2}, 64, options.scale(), false);
            for (int i = 0; i < 2; i++) {
                for (int d = 0; d < 64; d++) {
                    assertEquals(want.out()[i][d], y[i * 64 + d], tolerance(DType.F16), "kept row " + i);
                }
            }
            for (int i = 2 * 64; i < y.length; i++) {
                assertEquals(0f, y[i], 0f, "padding rows of the kept batch are zero");
            }
        }
    }

    @Test
    void keyAttentionIsTheAttentionEachTokenReceived() {
        SplittableRandom random = TestData.random("keyAttention");
        for (KeyScore score : KeyScore.values()) {
            for (boolean causal : new boolean[] {false, true}) {
                DType dtype = HALVES.get(random.nextInt(2));
                int headDim = HEAD_DIMS[random.nextInt(HEAD_DIMS.length)];
                AttentionOptions options = AttentionOptions.of(1 + random.nextInt(3), headDim).withCausal(causal);
                int[] lengths = {1 + random.nextInt(150), 1, 0, 65 + random.nextInt(100)};
                try {
                    checkKeyAttention(random, dtype, options, lengths, score);
                } finally {
                    release();
                }
            }
        }
    }

    private void checkKeyAttention(SplittableRandom random, DType dtype, AttentionOptions options, int[] lengths,
                                   KeyScore score) {
        SequenceBatch batch = batch(lengths, 2);
        long rows = batch.rows();
        int width = options.width();
        float[] qkv = randomQkv(random, rows, width, dtype);
        AttentionInputs inputs = AttentionInputs.packed(upload(dtype, qkv, rows, 3L * width));
        DeviceArray lse = poisoned(DType.F32, Shape.of(options.heads(), rows));
        ops().attention(inputs, batch, options, poisoned(dtype, Shape.of(rows, width)), lse);
        DeviceArray scores = poisoned(DType.F32, Shape.of(rows));
        ops().keyAttention(inputs, batch, options, lse, score, scores);
        float[] got = HostData.downloadFloats(backend, scores);
        int[] offsets = offsets(lengths);
        String what = score + " " + dtype + " d=" + options.headDim() + " heads=" + options.heads()
                + (options.causal() ? " causal" : "") + " lengths=" + Arrays.toString(lengths);
        for (int b = 0; b < lengths.length; b++) {
            int length = lengths[b];
            double[] want = new double[length];
            for (int h = 0; h < options.heads(); h++) {
                int column = h * options.headDim();
                int queries = score == KeyScore.CLS ? Math.min(1, length) : length;
                for (int i = 0; i < queries; i++) {
                    double[] p = probabilities(qkv, 3 * width, column, width + column, offsets[b], length, i, options);
                    for (int j = 0; j < length; j++) {
                        want[j] += p[j];
                    }
                }
            }
            for (int j = 0; j < length; j++) {
                double expected = want[j] / options.heads() / (score == KeyScore.CLS ? 1 : length);
                assertEquals(expected, got[offsets[b] + j], 2e-4 * expected + 1e-6, what + ": sequence " + b + " key " + j);
            }
        }
        for (long r = offsets[lengths.length]; r < rows; r++) {
            assertEquals(0f, got[Math.toIntExact(r)], 0f, what + ": row after the batch");
        }
    }

    /** Row i of one head's softmax matrix, from the definition. */
    private static double[] probabilities(float[] qkv, int stride, int qColumn, int kColumn, int start, int length, int i,
                                          AttentionOptions options) {
        double max = Double.NEGATIVE_INFINITY;
        double[] s = new double[length];
        for (int n = 0; n < length; n++) {
            if (options.causal() && n > i) {
                s[n] = Double.NEGATIVE_INFINITY;
                continue;
            }
            double dot = 0;
            for (int d = 0; d < options.headDim(); d++) {
                dot += (double) qkv[(start + i) * stride + qColumn + d] * qkv[(start + n) * stride + kColumn + d];
            }
            s[n] = options.scale() * dot;
            max = Math.max(max, s[n]);
        }
        double sum = 0;
        for (double x : s) {
            sum += Math.exp(x - max);
        }
        for (int n = 0; n < length; n++) {
            s[n] = Math.exp(s[n] - max) / sum;
        }
        return s;
    }

    @Test
    void outputsOverlappingAnInputAreRefused() {
        try {
            int[] lengths = {3, 5};
            SequenceBatch batch = batch(lengths, 0);
            AttentionOptions options = AttentionOptions.of(2, 64);
            DeviceArray q = upload(DType.F16, new float[8 * 128], 8, 128);
            DeviceArray k = upload(DType.F16, new float[8 * 128], 8, 128);
            DeviceArray v = upload(DType.F16, new float[8 * 128], 8, 128);
            DeviceArray out = poisoned(DType.F16, Shape.of(8, 128));
            AttentionInputs inputs = AttentionInputs.separate(q, k, v);
            DeviceArray logSumExpInK = new DeviceArray(k.buffer(), 0, DType.F32, Shape.of(2, 8));
            assertTrue(assertThrows(InvalidInputException.class,
                    () -> ops().attention(inputs, batch, options, out, logSumExpInK)).getMessage()
                    .contains("logSumExp overlaps an input"));
            DeviceArray logSumExp = poisoned(DType.F32, Shape.of(2, 8));
            ops().attention(inputs, batch, options, out, logSumExp);
            DeviceArray scoresInQ = new DeviceArray(q.buffer(), 64, DType.F32, Shape.of(8));
            assertTrue(assertThrows(InvalidInputException.class, () -> ops().keyAttention(inputs, batch, options,
                    logSumExp, KeyScore.MEAN_RECEIVED, scoresInQ)).getMessage().contains("scores overlap an input"));
        } finally {
            release();
        }
    }

    @Test
    void badInputsGetClearErrorsAndTheBackendStaysUsable() {
        assertThrows(InvalidInputException.class, () -> SelectionRule.keepRatio(0));
        assertThrows(InvalidInputException.class, () -> SelectionRule.keepRatio(1.5));
        assertThrows(InvalidInputException.class, () -> SelectionRule.keepRatio(-0.1));
        assertTrue(assertThrows(InvalidInputException.class, () -> SelectionRule.keepRatio(Double.NaN)).getMessage()
                .contains("keep ratio must be in (0, 1]"));
        assertThrows(InvalidInputException.class, () -> SelectionRule.threshold(Float.NaN));
        assertTrue(assertThrows(InvalidInputException.class, () -> AttentionOptions.of(2, 96)).getMessage()
                .contains("head dim must be 32, 64 or 128"));
        try {
            int[] lengths = {3, 5};
            SequenceBatch batch = batch(lengths, 0);
            AttentionOptions options = AttentionOptions.of(2, 64);
            DeviceArray q = upload(DType.F16, new float[8 * 128], 8, 128);
            DeviceArray kWide = upload(DType.F16, new float[8 * 256], 8, 256);
            DeviceArray out = poisoned(DType.F16, Shape.of(8, 128));
            // Mismatched head dims: K's rows hold 2 heads of 128.
            InvalidInputException mismatch = assertThrows(InvalidInputException.class,
                    () -> ops().attention(AttentionInputs.separate(q, kWide, q), batch, options, out, null));
            assertEquals(ErrorCode.SHAPE_MISMATCH, mismatch.code());
            assertTrue(mismatch.getMessage().contains("k has shape [8, 256]"), mismatch.getMessage());
            DeviceArray floats = upload(DType.F32, new float[8 * 128], 8, 128);
            assertEquals(ErrorCode.DTYPE_MISMATCH, assertThrows(InvalidInputException.class,
                    () -> ops().attention(AttentionInputs.separate(floats, floats, floats), batch, options, out, null))
                    .code());
            assertThrows(InvalidInputException.class, () -> ops().attention(AttentionInputs.separate(q, q, q), batch,
                    options, out, poisoned(DType.F32, Shape.of(8, 2))));
            assertThrows(InvalidInputException.class, () -> ops().attention(AttentionInputs.separate(q, q, q), batch,
                    options, q, null));

            // NaN scores: an error naming the row (at once on the CPU, from verify() on the GPU).
            float[] scores = {1, 2, 3, 4, Float.NaN, 6, 7, 8};
            SelectionRule rule = SelectionRule.keepRatio(0.5);
            try (TokenSelection selection = TokenSelection.allocate(backend, batch, rule, false)) {
                InvalidInputException nan = assertThrows(InvalidInputException.class, () -> {
                    ops().selectTokens(upload(DType.F32, scores, 8), batch, null, rule, selection);
                    selection.verify(backend);
                });
                assertTrue(nan.getMessage().contains("row 4") && nan.getMessage().contains("NaN"), nan.getMessage());
                // A selection sized for a smaller budget refuses a larger one.
                assertTrue(assertThrows(InvalidInputException.class, () -> ops().selectTokens(
                        upload(DType.F32, new float[8], 8), batch, null, SelectionRule.keepRatio(1.0), selection))
                        .getMessage().contains("allocate it for this rule"));
                assertThrows(InvalidInputException.class, () -> ops().gatherRows(q, selection, q));
                // A gather's out and a scatter's kept rows are the selection's capacity, not all its rows.
                assertTrue(selection.capacity() < 8, "keeping half of 8 rows: capacity " + selection.capacity());
                DeviceArray all = track(poisoned(DType.F16, Shape.of(8, 128)));
                String capacityRows = "has shape [8, 128], expected " + selection.capacity() + " rows";
                InvalidInputException gatherOut = assertThrows(InvalidInputException.class,
                        () -> ops().gatherRows(q, selection, all));
                assertTrue(gatherOut.getMessage().contains("out " + capacityRows), gatherOut.getMessage());
                InvalidInputException scatterKept = assertThrows(InvalidInputException.class,
                        () -> ops().scatterRows(q, selection, null, all));
                assertTrue(scatterKept.getMessage().contains("kept " + capacityRows), scatterKept.getMessage());
            }

            // After all that the backend still works.
            ops().attention(AttentionInputs.separate(q, q, q), batch, options, out, null);
            float[] y = HostData.downloadFloats(backend, out);
            assertFalse(Float.isNaN(y[0]));
            assertEquals(0f, y[0], 0f, "zero inputs give zero outputs");
        } finally {
            release();
        }
    }
}

package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.ScoreRule;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.testing.GpuTest;
import org.lacuna.runtime.testing.TestData;

/** The encoder on the GPU against the CPU reference: ViT-sized sequences (197 tokens), token dropping, 2:4 weights. */
@GpuTest
class TransformerEncoderGpuTest {
    private static final int[] LENGTHS = {197, 197, 50, 1, 0, 130};

    @Test
    void aDroppingEncoderMatchesTheCpuBackend() {
        SplittableRandom random = TestData.random("gpuEncoder");
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            TransformerEncoderLayer.Config dense = TransformerEncoderLayer.Config.of(256, 4, 512, dtype);
            List<TransformerEncoderLayer.Config> configs = List.of(dense.withTwoFour(),
                    dense.withTokenDropping(TokenDropping.keep(0.7, ScoreRule.L2_NORM).verifying()),
                    dense.withTokenDropping(TokenDropping.keep(0.5, ScoreRule.L2_NORM)).withCausal(true));
            List<TransformerEncoderLayer.Weights> weights = configs.stream()
                    .map(c -> TransformerEncoderLayer.Weights.random(c, random.nextLong())).toList();
            int tokens = Arrays.stream(LENGTHS).sum();
            float[] x = TestData.uniform(random, tokens * 256, 1f, dtype);
            float[] gpu = run("cuda", configs, weights, x, dtype);
            float[] cpu = run("cpu", configs, weights, x, dtype);
            for (int i = 0; i < cpu.length; i++) {
                // Three layers of roundings, in different orders on the two backends.
                assertEquals(cpu[i], gpu[i], 3 * EncoderReference.tolerance(dtype), dtype + " element " + i);
            }
        }
    }

    private static float[] run(String backend, List<TransformerEncoderLayer.Config> configs,
                               List<TransformerEncoderLayer.Weights> weights, float[] x, DType dtype) {
        int tokens = x.length / 256;
        try (Session s = Lacuna.open(backend, 0); Sequences seq = Sequences.of(s, LENGTHS);
             Tensor xs = s.fromFloats(x, dtype, tokens, 256)) {
            return TransformerEncoder.create(s, configs, weights).forward(xs, seq).toFloatArray();
        }
    }

    /** CLS-attention scores from the GPU's own first layer choose exactly what the GPU's second layer keeps. */
    @Test
    void clsAttentionFromOneLayerSelectsTheTokensOfTheNextOnTheGpu() {
        SplittableRandom random = TestData.random("gpuClsStack");
        DType dtype = DType.F16;
        TransformerEncoderLayer.Config first = TransformerEncoderLayer.Config.of(256, 2, 512, dtype);
        TransformerEncoderLayer.Config second = first.withTokenDropping(TokenDropping.keep(0.5, ScoreRule.CLS_ATTENTION));
        TransformerEncoderLayer.Weights w0 = TransformerEncoderLayer.Weights.random(first, random.nextLong());
        TransformerEncoderLayer.Weights w1 = TransformerEncoderLayer.Weights.random(second, random.nextLong());
        int tokens = Arrays.stream(LENGTHS).sum();
        float[] x = TestData.uniform(random, tokens * 256, 1f, dtype);
        try (Session s = Lacuna.open("cuda", 0); Sequences seq = Sequences.of(s, LENGTHS);
             Tensor xs = s.fromFloats(x, dtype, tokens, 256)) {
            TransformerEncoder encoder = TransformerEncoder.create(s, List.of(first, second), List.of(w0, w1));
            float[] y = encoder.forward(xs, seq).toFloatArray();
            TransformerEncoderLayer.Output out = encoder.layers().get(0).forward(xs, seq, null, null, KeyScore.CLS);
            float[] h = out.hidden().toFloatArray();
            float[] scores = out.keyScores().toFloatArray();
            int[][] kept = TransformerEncoderLayerTest.keptRows(scores, LENGTHS, second.tokenDropping().rule());
            boolean[] isKept = new boolean[tokens];
            for (int[] members : kept) {
                for (int r : members) {
                    isKept[r] = true;
                }
            }
            for (int r = 0; r < tokens; r++) {
                if (!isKept[r]) {
                    for (int c = 0; c < 256; c++) {
                        assertEquals(Float.floatToRawIntBits(h[r * 256 + c]), Float.floatToRawIntBits(y[r * 256 + c]),
                                "dropped row " + r);
                    }
                }
            }
            double[][] want = new EncoderReference(second, w1).block(h, kept);
            for (int[] members : kept) {
                TransformerEncoderLayerTest.assertClose(want, y, 256, members, EncoderReference.tolerance(dtype), "kept");
            }
        }
    }
}

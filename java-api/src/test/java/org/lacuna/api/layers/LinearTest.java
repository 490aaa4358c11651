package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.gemm.LinearKernel;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.ops.Activation;

class LinearTest {
    private static float[] random(SplittableRandom random, int n, DType dtype) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = HalfFloats.roundTo(dtype, (float) random.nextDouble(-1, 1));
        }
        return v;
    }

    private static double[] reference(float[] x, float[] w, float[] b, Activation act, int tokens, int out, int in) {
        double[] y = new double[tokens * out];
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                double acc = b == null ? 0 : b[o];
                for (int k = 0; k < in; k++) {
                    acc += (double) x[t * in + k] * HalfFloats.roundTo(DType.F16, w[o * in + k]);
                }
                y[t * out + o] = act.apply(acc);
            }
        }
        return y;
    }

    @Test
    void everyKernelComputesTheSameLayer() {
        SplittableRandom random = new SplittableRandom(5);
        int tokens = 9;
        int out = 37;
        int in = 70;
        float[] w = TwoFourPruning.prune(random(random, out * in, DType.F32), out, in);
        float[] b = random(random, out, DType.F32);
        float[] x = random(random, tokens * in, DType.F16);
        double[] want = reference(x, w, b, Activation.GELU, tokens, out, in);
        try (Session s = Lacuna.open("cpu", 0); Tensor xs = s.fromFloats(x, DType.F16, tokens, in)) {
            for (LinearKernel kernel : LinearKernel.values()) {
                Linear layer = Linear.create(s, w, out, in, b, Linear.Options.of(DType.F16)
                        .withOutputType(DType.F32).withActivation(Activation.GELU).forcing(kernel));
                float[] got = layer.forward(xs).toFloatArray();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 1e-4, kernel + " at " + i);
                }
                assertEquals(List.of(kernel), layer.candidates());
                layer.close();
            }
        }
    }

    @Test
    void statisticsDecideWhichFormsTheLayerKeeps() {
        SplittableRandom random = new SplittableRandom(6);
        int out = 64;
        int in = 64;
        float[] dense = random(random, out * in, DType.F32);
        float[] twoFour = TwoFourPruning.prune(dense, out, in);
        float[] verySparse = new float[out * in];
        for (int i = 0; i < verySparse.length; i += 50) {
            verySparse[i] = 1f;
        }
        try (Session s = Lacuna.open("cpu", 0)) {
            assertEquals(List.of(LinearKernel.DENSE),
                    Linear.create(s, dense, out, in, null, Linear.Options.of(DType.F16)).candidates());
            assertEquals(List.of(LinearKernel.TWO_FOUR, LinearKernel.DENSE),
                    Linear.create(s, twoFour, out, in, null, Linear.Options.of(DType.BF16)).candidates());
            assertEquals(List.of(LinearKernel.DENSE),
                    Linear.create(s, twoFour, out, in, null, Linear.Options.of(DType.F32)).candidates(),
                    "the sparse tensor cores take 16-bit types only");
            Linear sparse = Linear.create(s, verySparse, out, in, null, Linear.Options.of(DType.F16));
            assertEquals(LinearKernel.CSR, sparse.candidates().get(0));
            assertTrue(sparse.statistics().density() < 0.05);
            Linear pruned = Linear.create(s, dense, out, in, null, Linear.Options.of(DType.F16).pruned());
            assertTrue(pruned.statistics().twoFourConformant());
            assertEquals(0.5, pruned.statistics().density(), 1e-9);
            // On the CPU nothing is measured: the rule's first choice serves.
            try (Tensor x = s.fromFloats(random(random, 3 * in, DType.F16), DType.F16, 3, in)) {
                pruned.forward(x).close();
            }
            assertEquals(LinearKernel.TWO_FOUR, pruned.kernelFor(3));
        }
    }

    @Test
    void aWeightThatIsNotTwoFourIsRefusedForTheTwoFourKernelUnlessPruned() {
        float[] w = {1, 2, 3, 0, 0, 0, 0, 0};
        try (Session s = Lacuna.open("cpu", 0)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> Linear.create(s, w, 2, 4, null,
                    Linear.Options.of(DType.F16).forcing(LinearKernel.TWO_FOUR)));
            assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
            assertTrue(e.getMessage().contains("row 0, columns 0..3"), e.getMessage());
            Linear pruned = Linear.create(s, w, 2, 4, null, Linear.Options.of(DType.F16).pruned().forcing(LinearKernel.TWO_FOUR));
            try (Tensor x = s.fromFloats(new float[] {1, 1, 1, 1}, DType.F16, 1, 4)) {
                float[] y = pruned.forward(x).toFloatArray();
                assertEquals(5f, y[0], "pruning keeps 2 and 3, drops 1");
                assertEquals(0f, y[1]);
            }
        }
    }

    @Test
    void badInputsAndLifetimes() {
        try (Session s = Lacuna.open("cpu", 0)) {
            assertThrows(InvalidInputException.class, () -> Linear.create(s, new float[5], 2, 3, null, Linear.Options.of(DType.F16)));
            assertThrows(InvalidInputException.class, () -> Linear.create(s, new float[] {Float.NaN, 0}, 1, 2, null,
                    Linear.Options.of(DType.F16)));
            assertThrows(InvalidInputException.class, () -> Linear.create(s, new float[4], 2, 2, new float[3],
                    Linear.Options.of(DType.F16)));
            Linear layer = Linear.create(s, new float[] {1, 0, 0, 1}, 2, 2, null, Linear.Options.of(DType.F16));
            try (Tensor wrongType = s.fromFloats(new float[] {1, 2}, DType.F32, 1, 2);
                 Tensor wrongShape = s.fromFloats(new float[] {1, 2, 3}, DType.F16, 1, 3)) {
                assertEquals(ErrorCode.DTYPE_MISMATCH, assertThrows(InvalidInputException.class,
                        () -> layer.forward(wrongType)).code());
                assertEquals(ErrorCode.SHAPE_MISMATCH, assertThrows(InvalidInputException.class,
                        () -> layer.forward(wrongShape)).code());
            }
            InvalidInputException nullInput = assertThrows(InvalidInputException.class, () -> layer.forward(null));
            assertTrue(nullInput.getMessage().contains("Linear.forward") && nullInput.getMessage().contains("null"),
                    nullInput.getMessage());
            Tensor closedInput = s.fromFloats(new float[] {1, 2}, DType.F16, 1, 2);
            closedInput.close();
            assertThrows(ResourceClosedException.class, () -> layer.forward(closedInput));
            long inUse = s.memoryStats().inUseBytes();
            layer.close();
            layer.close();
            assertTrue(s.memoryStats().inUseBytes() < inUse, "closing a layer frees its weights");
            try (Tensor x = s.fromFloats(new float[] {1, 2}, DType.F16, 1, 2)) {
                assertThrows(ResourceClosedException.class, () -> layer.forward(x));
            }
        }
    }

    @Test
    void closingTheSessionFreesLayersItOwns() {
        Session s = Lacuna.open("cpu", 0);
        Linear.create(s, new float[64 * 64], 64, 64, new float[64], Linear.Options.of(DType.F16));
        assertTrue(s.memoryStats().inUseBytes() > 0);
        s.close();
        assertEquals(0, s.memoryStats().inUseBytes());
    }

    @Test
    void tokenBuckets() {
        assertEquals(1, Linear.tokenBucket(1));
        assertEquals(16, Linear.tokenBucket(9));
        assertEquals(16, Linear.tokenBucket(16));
        assertEquals(2048, Linear.tokenBucket(2000));
    }
}

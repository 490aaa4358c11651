package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.testing.TestData;

/**
 * The fused epilogue, scalar and Vector API forms, against the double-precision activations. The Vector API form runs
 * only where the JVM has {@code jdk.incubator.vector} (the build's test JVMs do): its tests assume it, so that they
 * never pass by checking the scalar fallback instead.
 */
class EpilogueTest {
    @Test
    void theScalarFormMatchesTheDoubleActivations() {
        checkAgainstTheDoubleActivations(false);
    }

    @Test
    void theVectorFormMatchesTheDoubleActivations() {
        assumeVectorModule();
        checkAgainstTheDoubleActivations(true);
    }

    private static void assumeVectorModule() {
        assumeTrue(VectorModule.present(), "no jdk.incubator.vector in this JVM: the Vector API form cannot run");
    }

    private static void checkAgainstTheDoubleActivations(boolean vectorApi) {
        SplittableRandom random = TestData.random(vectorApi ? "epilogue vector" : "epilogue scalar");
        int rows = 5;
        int cols = 77; // a ragged vector tail
        int ldc = cols + 3;
        for (Activation activation : Activation.values()) {
            float[] c = new float[rows * ldc];
            float[] bias = new float[cols + 2];
            for (int i = 0; i < c.length; i++) {
                // Mostly where GELU bends, some far into both tails.
                c[i] = (float) (random.nextInt(8) == 0 ? random.nextDouble(-30, 30) : random.nextDouble(-6, 6));
            }
            for (int i = 0; i < bias.length; i++) {
                bias[i] = (float) random.nextDouble(-0.5, 0.5);
            }
            float[] before = c.clone();
            Epilogue.biasActivation(vectorApi, c, 0, ldc, rows, cols, bias, 2, activation);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < ldc; j++) {
                    int i = r * ldc + j;
                    if (j >= cols) {
                        assertEquals(before[i], c[i], "padding changed at " + i);
                        continue;
                    }
                    double expected = activation.apply((double) (before[i] + bias[2 + j]));
                    // A few fp32 ulps, or an absolute 1e-9 where GELU's tail is tiny. The vector GELU runs in
                    // fp32 lanes (erfc fit, exp and their roundings): a sweep of 4 million values found at most
                    // 7.7 ulps, the scalar one in double stays within 4.
                    double ulps = vectorApi && activation == Activation.GELU ? 10 : 4;
                    double tolerance = ulps * Math.ulp((float) expected) + 1e-9;
                    assertEquals(expected, c[i], tolerance, activation + (vectorApi ? " vector" : " scalar")
                            + " at x=" + (before[i] + bias[2 + j]));
                }
            }
        }
    }

    /**
     * A value's biased GELU must not depend on where it falls: in a full vector, or in the ragged tail that runs on a
     * padded copy with its bias added element by element. Each run puts {@code shift} other values before the same
     * ones, in a row {@code shift} longer, so every value moves along the row across the full vectors' end and passes
     * through both paths.
     */
    @Test
    void theVectorGeluTailGivesTheFullVectorsBits() {
        assumeVectorModule();
        SplittableRandom random = TestData.random("epilogue tail");
        int cols = 53; // with no shift: three full vectors of 16 and a tail of 5
        int shifts = 16;
        float[] values = new float[cols];
        float[] bias = new float[cols];
        for (int i = 0; i < cols; i++) {
            values[i] = (float) random.nextDouble(-7, 7);
            bias[i] = (float) random.nextDouble(-0.5, 0.5);
        }
        float[] reference = null;
        for (int shift = 0; shift < shifts; shift++) {
            int length = shift + cols;
            float[] c = new float[length + shifts];
            java.util.Arrays.fill(c, Float.NaN); // poisoned past the row
            float[] b = new float[length];
            for (int i = 0; i < shift; i++) {
                c[i] = (float) random.nextDouble(-7, 7);
                b[i] = (float) random.nextDouble(-0.5, 0.5);
            }
            System.arraycopy(values, 0, c, shift, cols);
            System.arraycopy(bias, 0, b, shift, cols);
            Epilogue.biasActivation(true, c, 0, length, 1, length, b, 0, Activation.GELU);
            for (int i = length; i < c.length; i++) {
                assertEquals(Float.NaN, c[i], "written past the row at " + i);
            }
            float[] moved = java.util.Arrays.copyOfRange(c, shift, length);
            if (reference == null) {
                reference = moved;
            } else {
                org.junit.jupiter.api.Assertions.assertArrayEquals(reference, moved, "shift " + shift);
            }
        }
    }

    /** Vector lanes must round the same way before and after C2 compiles them, or results would depend on timing. */
    @Test
    void theVectorGeluGivesTheSameBitsColdAndCompiled() {
        assumeVectorModule();
        SplittableRandom random = TestData.random("epilogue warm-up");
        float[] input = new float[301];
        for (int i = 0; i < input.length; i++) {
            input[i] = (float) random.nextDouble(-8, 8);
        }
        float[] cold = input.clone();
        Epilogue.biasActivation(true, cold, 0, cold.length, 1, cold.length, null, 0, Activation.GELU);
        float[] warm = null;
        for (int round = 0; round < 3000; round++) {
            warm = input.clone();
            Epilogue.biasActivation(true, warm, 0, warm.length, 1, warm.length, null, 0, Activation.GELU);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(cold, warm);
    }
}

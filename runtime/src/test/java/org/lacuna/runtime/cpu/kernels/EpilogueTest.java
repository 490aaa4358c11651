package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.testing.TestData;

/** The fused epilogue, scalar and Vector API forms, against the double-precision activations. */
class EpilogueTest {
    @Test
    void bothFormsMatchTheDoubleActivations() {
        SplittableRandom random = TestData.random("epilogue");
        int rows = 5;
        int cols = 77; // a ragged vector tail
        int ldc = cols + 3;
        for (Activation activation : Activation.values()) {
            for (boolean vectorApi : new boolean[] {false, true}) {
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
                        // A few fp32 ulps, or an absolute 1e-9 where GELU's tail is tiny.
                        double tolerance = 4 * Math.ulp((float) expected) + 1e-9;
                        assertEquals(expected, c[i], tolerance, activation + (vectorApi ? " vector" : " scalar")
                                + " at x=" + (before[i] + bias[2 + j]));
                    }
                }
            }
        }
    }
}

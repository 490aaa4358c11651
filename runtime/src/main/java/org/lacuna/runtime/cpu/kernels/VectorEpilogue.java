package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.lacuna.runtime.ops.Activation;

/**
 * The Vector API form of {@link Epilogue#biasActivation}: bias and ReLU in fp32 lanes (the same bits as the scalar
 * form), GELU by {@link VectorGelu} on the same values after their bias, in one pass. Each activation has its own
 * loop, chosen once per tile rather than per vector, so no loop holds another activation's code (see
 * {@link VectorGelu} for what a call inside the loop cost). Only loaded with {@code jdk.incubator.vector}.
 */
final class VectorEpilogue {
    private static final VectorSpecies<Float> SPECIES = VectorGelu.SPECIES;
    /** A GELU tail's padded copy, per thread (tiles run on the worker threads). */
    private static final ThreadLocal<float[]> EDGE = ThreadLocal.withInitial(() -> new float[SPECIES.length()]);

    private VectorEpilogue() {
    }

    static void biasActivation(float[] c, int cOffset, int ldc, int rows, int cols, float[] bias, int biasOffset,
                               Activation activation) {
        switch (activation) {
            case NONE -> {
                if (bias != null) {
                    biasRelu(c, cOffset, ldc, rows, cols, bias, biasOffset, false);
                }
            }
            case RELU -> biasRelu(c, cOffset, ldc, rows, cols, bias, biasOffset, true);
            case GELU -> {
                float[] edge = EDGE.get();
                for (int r = 0; r < rows; r++) {
                    VectorGelu.apply(c, cOffset + r * ldc, cols, bias, biasOffset, edge);
                }
            }
        }
    }

    /** {@code c = c + bias}, then {@code max(c, 0)} where {@code relu}; bias may be null. */
    private static void biasRelu(float[] c, int cOffset, int ldc, int rows, int cols, float[] bias, int biasOffset,
                                 boolean relu) {
        int full = SPECIES.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int row = cOffset + r * ldc;
            int j = 0;
            for (; j < full; j += SPECIES.length()) {
                FloatVector v = FloatVector.fromArray(SPECIES, c, row + j);
                if (bias != null) {
                    v = v.add(FloatVector.fromArray(SPECIES, bias, biasOffset + j));
                }
                if (relu) {
                    v = v.max(0f);
                }
                v.intoArray(c, row + j);
            }
            if (j < cols) {
                VectorMask<Float> tail = SPECIES.indexInRange(j, cols);
                FloatVector v = FloatVector.fromArray(SPECIES, c, row + j, tail);
                if (bias != null) {
                    v = v.add(FloatVector.fromArray(SPECIES, bias, biasOffset + j, tail));
                }
                if (relu) {
                    v = v.max(0f);
                }
                v.intoArray(c, row + j, tail);
            }
        }
    }
}

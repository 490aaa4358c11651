package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.lacuna.runtime.ops.Activation;

/**
 * The Vector API form of {@link Epilogue#biasActivation}: bias and ReLU in fp32 lanes (the same bits as the scalar
 * form), GELU by {@link VectorGelu} on the same vector after its bias, in one pass. Only loaded with
 * {@code jdk.incubator.vector}.
 */
final class VectorEpilogue {
    private static final VectorSpecies<Float> SPECIES = VectorGelu.SPECIES;

    private VectorEpilogue() {
    }

    static void biasActivation(float[] c, int cOffset, int ldc, int rows, int cols, float[] bias, int biasOffset,
                               Activation activation) {
        int full = SPECIES.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int row = cOffset + r * ldc;
            int j = 0;
            for (; j < full; j += SPECIES.length()) {
                FloatVector v = FloatVector.fromArray(SPECIES, c, row + j);
                if (bias != null) {
                    v = v.add(FloatVector.fromArray(SPECIES, bias, biasOffset + j));
                }
                activate(v, activation).intoArray(c, row + j);
            }
            if (j < cols) {
                VectorMask<Float> tail = SPECIES.indexInRange(j, cols);
                FloatVector v = FloatVector.fromArray(SPECIES, c, row + j, tail);
                if (bias != null) {
                    v = v.add(FloatVector.fromArray(SPECIES, bias, biasOffset + j, tail));
                }
                activate(v, activation).intoArray(c, row + j, tail);
            }
        }
    }

    private static FloatVector activate(FloatVector x, Activation activation) {
        return switch (activation) {
            case NONE -> x;
            case RELU -> x.max(0f);
            case GELU -> VectorGelu.gelu(x);
        };
    }
}

package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link RowMath} on the Vector API. Sums accumulate lane-wise and then add the lanes in index order (not
 * {@code reduceLanes}, whose order is unspecified), so they depend on the length alone.
 */
final class VectorRowMath implements RowMath {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    @Override
    public float sum(float[] a, int n) {
        FloatVector acc = FloatVector.zero(SPECIES);
        for (int i = 0; i < n; i += SPECIES.length()) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            acc = acc.add(FloatVector.fromArray(SPECIES, a, i, m), m);
        }
        return lanes(acc);
    }

    @Override
    public float squaredDeviations(float[] a, int n, float mean) {
        FloatVector acc = FloatVector.zero(SPECIES);
        for (int i = 0; i < n; i += SPECIES.length()) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            FloatVector d = FloatVector.fromArray(SPECIES, a, i, m).sub(mean);
            acc = acc.blend(d.fma(d, acc), m);
        }
        return lanes(acc);
    }

    @Override
    public void normalise(float[] x, int n, float mean, float rstd, float[] gamma, float[] beta, float[] y) {
        for (int i = 0; i < n; i += SPECIES.length()) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            FloatVector scaled = FloatVector.fromArray(SPECIES, x, i, m).sub(mean).mul(rstd);
            FloatVector g = FloatVector.fromArray(SPECIES, gamma, i, m);
            FloatVector out = beta == null ? scaled.mul(g) : scaled.fma(g, FloatVector.fromArray(SPECIES, beta, i, m));
            out.intoArray(y, i, m);
        }
    }

    private static float lanes(FloatVector v) {
        float total = 0f;
        for (float lane : v.toArray()) {
            total += lane;
        }
        return total;
    }
}

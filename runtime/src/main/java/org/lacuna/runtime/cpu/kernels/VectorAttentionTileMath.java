package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link AttentionTileMath} on the Vector API. The two products run as register tiles of {@link #ROW_GROUP} rows by
 * two vectors (eight independent fused multiply-add chains, enough to hide their latency): Q·Kᵀ broadcasts a query
 * element against two vectors of keys, P·V a probability against two vectors of the head dimension. Sums across
 * lanes are taken lane by lane in index order rather than with {@code reduceLanes}, whose order is not specified, so
 * a result never depends on how far the JIT has got.
 */
final class VectorAttentionTileMath implements AttentionTileMath {
    private static final VectorSpecies<Float> SPECIES = VectorExp.SPECIES;
    private static final int LANES = SPECIES.length();

    VectorAttentionTileMath() {
        if (KEYS % (2 * LANES) != 0 || 32 % (2 * LANES) != 0) {
            throw new IllegalStateException("vectors of " + LANES + " floats do not tile the attention");
        }
    }

    @Override
    public void scores(float[] q, int qOffset, float[] kt, int rows, int dim, float[] s) {
        for (int i = 0; i < rows; i += ROW_GROUP) {
            int q0 = qOffset + i * dim;
            int q1 = q0 + dim;
            int q2 = q1 + dim;
            int q3 = q2 + dim;
            for (int j = 0; j < KEYS; j += 2 * LANES) {
                FloatVector a0 = FloatVector.zero(SPECIES);
                FloatVector a1 = a0;
                FloatVector b0 = a0;
                FloatVector b1 = a0;
                FloatVector c0 = a0;
                FloatVector c1 = a0;
                FloatVector d0 = a0;
                FloatVector d1 = a0;
                for (int d = 0; d < dim; d++) {
                    FloatVector k0 = FloatVector.fromArray(SPECIES, kt, d * KEYS + j);
                    FloatVector k1 = FloatVector.fromArray(SPECIES, kt, d * KEYS + j + LANES);
                    FloatVector x = FloatVector.broadcast(SPECIES, q[q0 + d]);
                    a0 = k0.fma(x, a0);
                    a1 = k1.fma(x, a1);
                    x = FloatVector.broadcast(SPECIES, q[q1 + d]);
                    b0 = k0.fma(x, b0);
                    b1 = k1.fma(x, b1);
                    x = FloatVector.broadcast(SPECIES, q[q2 + d]);
                    c0 = k0.fma(x, c0);
                    c1 = k1.fma(x, c1);
                    x = FloatVector.broadcast(SPECIES, q[q3 + d]);
                    d0 = k0.fma(x, d0);
                    d1 = k1.fma(x, d1);
                }
                int s0 = i * KEYS + j;
                a0.intoArray(s, s0);
                a1.intoArray(s, s0 + LANES);
                b0.intoArray(s, s0 + KEYS);
                b1.intoArray(s, s0 + KEYS + LANES);
                c0.intoArray(s, s0 + 2 * KEYS);
                c1.intoArray(s, s0 + 2 * KEYS + LANES);
                d0.intoArray(s, s0 + 3 * KEYS);
                d1.intoArray(s, s0 + 3 * KEYS + LANES);
            }
        }
    }

    @Override
    public void accumulate(float[] p, float[] v, int rows, int dim, float[] o, int oOffset) {
        for (int i = 0; i < rows; i += ROW_GROUP) {
            int p0 = i * KEYS;
            for (int d = 0; d < dim; d += 2 * LANES) {
                int o0 = oOffset + i * dim + d;
                FloatVector a0 = FloatVector.fromArray(SPECIES, o, o0);
                FloatVector a1 = FloatVector.fromArray(SPECIES, o, o0 + LANES);
                FloatVector b0 = FloatVector.fromArray(SPECIES, o, o0 + dim);
                FloatVector b1 = FloatVector.fromArray(SPECIES, o, o0 + dim + LANES);
                FloatVector c0 = FloatVector.fromArray(SPECIES, o, o0 + 2 * dim);
                FloatVector c1 = FloatVector.fromArray(SPECIES, o, o0 + 2 * dim + LANES);
                FloatVector d0 = FloatVector.fromArray(SPECIES, o, o0 + 3 * dim);
                FloatVector d1 = FloatVector.fromArray(SPECIES, o, o0 + 3 * dim + LANES);
                for (int j = 0; j < KEYS; j++) {
                    FloatVector v0 = FloatVector.fromArray(SPECIES, v, j * dim + d);
                    FloatVector v1 = FloatVector.fromArray(SPECIES, v, j * dim + d + LANES);
                    FloatVector x = FloatVector.broadcast(SPECIES, p[p0 + j]);
                    a0 = v0.fma(x, a0);
                    a1 = v1.fma(x, a1);
                    x = FloatVector.broadcast(SPECIES, p[p0 + KEYS + j]);
                    b0 = v0.fma(x, b0);
                    b1 = v1.fma(x, b1);
                    x = FloatVector.broadcast(SPECIES, p[p0 + 2 * KEYS + j]);
                    c0 = v0.fma(x, c0);
                    c1 = v1.fma(x, c1);
                    x = FloatVector.broadcast(SPECIES, p[p0 + 3 * KEYS + j]);
                    d0 = v0.fma(x, d0);
                    d1 = v1.fma(x, d1);
                }
                a0.intoArray(o, o0);
                a1.intoArray(o, o0 + LANES);
                b0.intoArray(o, o0 + dim);
                b1.intoArray(o, o0 + dim + LANES);
                c0.intoArray(o, o0 + 2 * dim);
                c1.intoArray(o, o0 + 2 * dim + LANES);
                d0.intoArray(o, o0 + 3 * dim);
                d1.intoArray(o, o0 + 3 * dim + LANES);
            }
        }
    }

    @Override
    public float max(float[] s, int offset, int count) {
        FloatVector max = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (; j + LANES <= count; j += LANES) {
            max = max.max(FloatVector.fromArray(SPECIES, s, offset + j));
        }
        float result = max.reduceLanes(VectorOperators.MAX); // exact in any order
        for (; j < count; j++) {
            result = Math.max(result, s[offset + j]);
        }
        return result;
    }

    @Override
    public float expAndSum(float[] s, int offset, int count, float shift) {
        FloatVector sum = FloatVector.zero(SPECIES);
        for (int j = 0; j < count; j += LANES) {
            VectorMask<Float> valid = SPECIES.indexInRange(j, count);
            FloatVector p = VectorExp.exp(FloatVector.fromArray(SPECIES, s, offset + j, valid).sub(shift));
            p.intoArray(s, offset + j, valid);
            sum = sum.add(p, valid);
        }
        float[] lanes = sum.toArray();
        float total = 0f;
        for (float lane : lanes) {
            total += lane;
        }
        return total;
    }

    @Override
    public void scale(float[] a, int offset, int count, float factor) {
        int j = 0;
        for (; j + LANES <= count; j += LANES) {
            FloatVector.fromArray(SPECIES, a, offset + j).mul(factor).intoArray(a, offset + j);
        }
        for (; j < count; j++) {
            a[offset + j] *= factor;
        }
    }
}

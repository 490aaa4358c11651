package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.lacuna.runtime.data.DType;

/**
 * {@link AttentionTileMath} on the Vector API. The two products run as register tiles of {@link #ROW_GROUP} rows by
 * four vectors (sixteen independent fused multiply-add chains, one broadcast for four of them): Q·Kᵀ broadcasts a
 * query element against four vectors of keys, P·V a probability against four vectors of the head dimension (two
 * where the head dim is only two vectors wide). Sums across
 * lanes are taken lane by lane in index order rather than with {@code reduceLanes}, whose order is not specified, so
 * a result never depends on how far the JIT has got.
 */
final class VectorAttentionTileMath implements AttentionTileMath {
    private static final VectorSpecies<Float> SPECIES = VectorExp.SPECIES;
    private static final int LANES = SPECIES.length();

    VectorAttentionTileMath() {
        if (KEYS % (4 * LANES) != 0 || 32 % (2 * LANES) != 0) {
            throw new IllegalStateException("vectors of " + LANES + " floats do not tile the attention");
        }
    }

    @Override
    public void scores(float[] q, int qOffset, float[] kt, int rows, int dim, float[] s) {
        for (int i = 0; i < rows; i += ROW_GROUP) {
            int q0 = qOffset + i * dim;
            for (int j = 0; j < KEYS; j += 4 * LANES) {
                FloatVector a0 = FloatVector.zero(SPECIES);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                FloatVector b0 = a0;
                FloatVector b1 = a0;
                FloatVector b2 = a0;
                FloatVector b3 = a0;
                FloatVector c0 = a0;
                FloatVector c1 = a0;
                FloatVector c2 = a0;
                FloatVector c3 = a0;
                FloatVector d0 = a0;
                FloatVector d1 = a0;
                FloatVector d2 = a0;
                FloatVector d3 = a0;
                for (int d = 0; d < dim; d++) {
                    int k = d * KEYS + j;
                    FloatVector k0 = FloatVector.fromArray(SPECIES, kt, k);
                    FloatVector k1 = FloatVector.fromArray(SPECIES, kt, k + LANES);
                    FloatVector k2 = FloatVector.fromArray(SPECIES, kt, k + 2 * LANES);
                    FloatVector k3 = FloatVector.fromArray(SPECIES, kt, k + 3 * LANES);
                    FloatVector x = FloatVector.broadcast(SPECIES, q[q0 + d]);
                    a0 = k0.fma(x, a0);
                    a1 = k1.fma(x, a1);
                    a2 = k2.fma(x, a2);
                    a3 = k3.fma(x, a3);
                    x = FloatVector.broadcast(SPECIES, q[q0 + dim + d]);
                    b0 = k0.fma(x, b0);
                    b1 = k1.fma(x, b1);
                    b2 = k2.fma(x, b2);
                    b3 = k3.fma(x, b3);
                    x = FloatVector.broadcast(SPECIES, q[q0 + 2 * dim + d]);
                    c0 = k0.fma(x, c0);
                    c1 = k1.fma(x, c1);
                    c2 = k2.fma(x, c2);
                    c3 = k3.fma(x, c3);
                    x = FloatVector.broadcast(SPECIES, q[q0 + 3 * dim + d]);
                    d0 = k0.fma(x, d0);
                    d1 = k1.fma(x, d1);
                    d2 = k2.fma(x, d2);
                    d3 = k3.fma(x, d3);
                }
                int s0 = i * KEYS + j;
                store4(s, s0, a0, a1, a2, a3);
                store4(s, s0 + KEYS, b0, b1, b2, b3);
                store4(s, s0 + 2 * KEYS, c0, c1, c2, c3);
                store4(s, s0 + 3 * KEYS, d0, d1, d2, d3);
            }
        }
    }

    private static void store4(float[] a, int at, FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3) {
        v0.intoArray(a, at);
        v1.intoArray(a, at + LANES);
        v2.intoArray(a, at + 2 * LANES);
        v3.intoArray(a, at + 3 * LANES);
    }

    @Override
    public void accumulate(float[] p, float[] v, int rows, int dim, float[] o, int oOffset) {
        int wide = dim - dim % (4 * LANES);
        for (int i = 0; i < rows; i += ROW_GROUP) {
            for (int d = 0; d < wide; d += 4 * LANES) {
                accumulate4(p, i * KEYS, v, dim, d, o, oOffset + i * dim + d);
            }
            for (int d = wide; d < dim; d += 2 * LANES) {
                accumulate2(p, i * KEYS, v, dim, d, o, oOffset + i * dim + d);
            }
        }
    }

    /** Four rows by four vectors of the head dimension from {@code d}: sixteen chains, four broadcasts a key. */
    private static void accumulate4(float[] p, int p0, float[] v, int dim, int d, float[] o, int o0) {
        FloatVector a0 = FloatVector.fromArray(SPECIES, o, o0);
        FloatVector a1 = FloatVector.fromArray(SPECIES, o, o0 + LANES);
        FloatVector a2 = FloatVector.fromArray(SPECIES, o, o0 + 2 * LANES);
        FloatVector a3 = FloatVector.fromArray(SPECIES, o, o0 + 3 * LANES);
        FloatVector b0 = FloatVector.fromArray(SPECIES, o, o0 + dim);
        FloatVector b1 = FloatVector.fromArray(SPECIES, o, o0 + dim + LANES);
        FloatVector b2 = FloatVector.fromArray(SPECIES, o, o0 + dim + 2 * LANES);
        FloatVector b3 = FloatVector.fromArray(SPECIES, o, o0 + dim + 3 * LANES);
        FloatVector c0 = FloatVector.fromArray(SPECIES, o, o0 + 2 * dim);
        FloatVector c1 = FloatVector.fromArray(SPECIES, o, o0 + 2 * dim + LANES);
        FloatVector c2 = FloatVector.fromArray(SPECIES, o, o0 + 2 * dim + 2 * LANES);
        FloatVector c3 = FloatVector.fromArray(SPECIES, o, o0 + 2 * dim + 3 * LANES);
        FloatVector d0 = FloatVector.fromArray(SPECIES, o, o0 + 3 * dim);
        FloatVector d1 = FloatVector.fromArray(SPECIES, o, o0 + 3 * dim + LANES);
        FloatVector d2 = FloatVector.fromArray(SPECIES, o, o0 + 3 * dim + 2 * LANES);
        FloatVector d3 = FloatVector.fromArray(SPECIES, o, o0 + 3 * dim + 3 * LANES);
        for (int j = 0; j < KEYS; j++) {
            int at = j * dim + d;
            FloatVector v0 = FloatVector.fromArray(SPECIES, v, at);
            FloatVector v1 = FloatVector.fromArray(SPECIES, v, at + LANES);
            FloatVector v2 = FloatVector.fromArray(SPECIES, v, at + 2 * LANES);
            FloatVector v3 = FloatVector.fromArray(SPECIES, v, at + 3 * LANES);
            FloatVector x = FloatVector.broadcast(SPECIES, p[p0 + j]);
            a0 = v0.fma(x, a0);
            a1 = v1.fma(x, a1);
            a2 = v2.fma(x, a2);
            a3 = v3.fma(x, a3);
            x = FloatVector.broadcast(SPECIES, p[p0 + KEYS + j]);
            b0 = v0.fma(x, b0);
            b1 = v1.fma(x, b1);
            b2 = v2.fma(x, b2);
            b3 = v3.fma(x, b3);
            x = FloatVector.broadcast(SPECIES, p[p0 + 2 * KEYS + j]);
            c0 = v0.fma(x, c0);
            c1 = v1.fma(x, c1);
            c2 = v2.fma(x, c2);
            c3 = v3.fma(x, c3);
            x = FloatVector.broadcast(SPECIES, p[p0 + 3 * KEYS + j]);
            d0 = v0.fma(x, d0);
            d1 = v1.fma(x, d1);
            d2 = v2.fma(x, d2);
            d3 = v3.fma(x, d3);
        }
        store4(o, o0, a0, a1, a2, a3);
        store4(o, o0 + dim, b0, b1, b2, b3);
        store4(o, o0 + 2 * dim, c0, c1, c2, c3);
        store4(o, o0 + 3 * dim, d0, d1, d2, d3);
    }

    /** Four rows by two vectors: the remainder of a head dim that four vectors do not divide (32 on 512 bits). */
    private static void accumulate2(float[] p, int p0, float[] v, int dim, int d, float[] o, int o0) {
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

    /** Widens with the vector form of the storage conversion (exact, so the same bits as the scalar form). */
    @Override
    public void widen(HalfMatrix m, long row, int head, int headDim, float scale, short[] bits, float[] to, int at) {
        VectorHalfConversions.widen(m.segment(), m.byteAt(row, head, headDim), m.bf16() ? DType.BF16 : DType.F16, to,
                at, headDim);
        if (scale != 1f) {
            for (int d = 0; d < headDim; d += LANES) {
                FloatVector.fromArray(SPECIES, to, at + d).mul(scale).intoArray(to, at + d);
            }
        }
    }

    @Override
    public void widenTransposed(HalfMatrix m, long row, int head, int headDim, short[] bits, float[] rowScratch,
                                float[] to, int column, int width) {
        VectorHalfConversions.widen(m.segment(), m.byteAt(row, head, headDim), m.bf16() ? DType.BF16 : DType.F16,
                rowScratch, 0, headDim);
        for (int d = 0; d < headDim; d++) {
            to[d * width + column] = rowScratch[d];
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
        // Lane by lane in index order (the bits of the former toArray sum), without the array it allocated per row.
        float total = 0f;
        for (int lane = 0; lane < LANES; lane++) {
            total += sum.lane(lane);
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

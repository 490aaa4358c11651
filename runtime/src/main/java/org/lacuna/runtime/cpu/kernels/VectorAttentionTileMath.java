package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.lacuna.runtime.data.DType;

/**
 * {@link AttentionTileMath} on the Vector API. The two products run as register tiles of sixteen independent fused
 * multiply-add chains: Q·Kᵀ broadcasts each of {@link #ROW_GROUP} query elements against four vectors of keys, P·V
 * each of {@link #ROW_GROUP} probabilities against four vectors of the head dimension, or each of eight against two
 * where the head dim is only two vectors wide. Sums across
 * lanes are taken by a fixed tree of folds (lane i plus lane i + LANES/2, then i + LANES/4, ...) rather than with
 * {@code reduceLanes}, whose order is not specified, so a result never depends on how far the JIT has got; the tree
 * rather than lane by lane in index order, whose sixteen lane extractions a row cost as much as its exponentials.
 *
 * <p>The two products' tiles ({@code scores}, {@code accumulate4x4}, {@code accumulate8x2}, {@code accumulate4x2})
 * live in the base class {@link VectorAttentionTiles}, generated at build time (into
 * {@code runtime/target/generated-sources/microkernels}) by its emitter
 * {@code codegen/src/org/lacuna/codegen/VectorAttentionTiles.java}: written out, as the JIT keeps named vectors in
 * registers, not arrays of them. This class keeps the rest: the split of the head dim into those tiles,
 * widening and the softmax steps.
 */
final class VectorAttentionTileMath extends VectorAttentionTiles {
    static final VectorSpecies<Float> SPECIES = VectorExp.SPECIES;
    static final int LANES = SPECIES.length();
    /** The folds of the lane tree: lane i takes lane i + LANES/2, i + LANES/4, ... (mod LANES; lane 0 is the result). */
    private static final VectorShuffle<Float> FOLD_HALF = fold(LANES / 2);
    private static final VectorShuffle<Float> FOLD_QUARTER = fold(LANES / 4);
    private static final VectorShuffle<Float> FOLD_EIGHTH = fold(LANES / 8);
    private static final VectorShuffle<Float> FOLD_SIXTEENTH = fold(LANES / 16);

    VectorAttentionTileMath() {
        if (KEYS % (4 * LANES) != 0 || 32 % (2 * LANES) != 0) {
            throw new IllegalStateException("vectors of " + LANES + " floats do not tile the attention");
        }
        if (ROWS != ROW_GROUP) {
            throw new IllegalStateException("the generated attention tiles hold " + ROWS
                    + " rows, not the " + ROW_GROUP + " of a row group");
        }
    }

    @Override
    public void accumulate(float[] p, float[] v, int rows, int dim, float[] o, int oOffset) {
        int wide = dim - dim % (4 * LANES);
        for (int i = 0; i < rows; i += ROW_GROUP) {
            for (int d = 0; d < wide; d += 4 * LANES) {
                accumulate4x4(p, i * KEYS, v, dim, d, o, oOffset + i * dim + d);
            }
        }
        // The remainder of a head dim that four vectors do not divide (all of 32 on 512 bits): eight rows by two
        // vectors, and four by two for a last row group that eight do not cover.
        for (int d = wide; d < dim; d += 2 * LANES) {
            int i = 0;
            for (; i + 2 * ROW_GROUP <= rows; i += 2 * ROW_GROUP) {
                accumulate8x2(p, i * KEYS, v, dim, d, o, oOffset + i * dim + d);
            }
            for (; i < rows; i += ROW_GROUP) {
                accumulate4x2(p, i * KEYS, v, dim, d, o, oOffset + i * dim + d);
            }
        }
    }

    /**
     * Widens in place from the row with the vector form of the storage conversion (exact, so the same bits as the
     * scalar form), then scales.
     */
    @Override
    public void widen(HalfMatrix m, long row, int head, int headDim, int count, float scale, short[] bits, float[] to,
                      int at) {
        VectorHalfConversions.widen(m.segment(), m.byteAt(row, head, headDim), m.bf16() ? DType.BF16 : DType.F16, to,
                at, count);
        if (scale != 1f) {
            scale(to, at, count, scale);
        }
    }

    /** Narrows straight into the row with the vector form of the storage conversion (the same bits). */
    @Override
    public void narrow(float[] from, int at, HalfMatrix m, long row, int head, int headDim, int count, short[] bits) {
        VectorHalfConversions.narrow(from, at, count, m.segment(), m.byteAt(row, head, headDim),
                m.bf16() ? DType.BF16 : DType.F16);
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

    /**
     * A compare and a blend a vector rather than {@code FloatVector.max}, whose Java NaN and signed-zero rules C2
     * builds from several dependent instructions on AVX-512 (3x slower over a row, ad hoc): the maximum of the
     * numbers is the same, and a NaN score makes its row NaN through its exponential either way.
     */
    @Override
    public float max(float[] s, int offset, int count) {
        FloatVector max = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (; j + LANES <= count; j += LANES) {
            FloatVector v = FloatVector.fromArray(SPECIES, s, offset + j);
            max = max.blend(v, max.compare(VectorOperators.LT, v));
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
        return sumLanes(sum);
    }

    /**
     * One vector maximum across the tiles and one reduction a row, not one a tile (the single pass's rows span two
     * to eight tiles): the maximum is the same either way.
     */
    @Override
    public float max(float[][] tiles, int tileCount, int offset, int count) {
        FloatVector max = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        float tail = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < tileCount && t * KEYS < count; t++) {
            float[] s = tiles[t];
            int keys = Math.min(KEYS, count - t * KEYS);
            int j = 0;
            for (; j + LANES <= keys; j += LANES) {
                FloatVector v = FloatVector.fromArray(SPECIES, s, offset + j);
                max = max.blend(v, max.compare(VectorOperators.LT, v));
            }
            for (; j < keys; j++) {
                tail = Math.max(tail, s[offset + j]);
            }
        }
        return Math.max(max.reduceLanes(VectorOperators.MAX), tail);
    }

    /**
     * One vector sum across the tiles, folded once a row by the fixed tree: a sum in an order fixed by the row's
     * length alone, as the per-tile form's, but not the same order (nor bits) as it.
     */
    @Override
    public float expAndSum(float[][] tiles, int tileCount, int offset, int count, float shift) {
        FloatVector sum = FloatVector.zero(SPECIES);
        for (int t = 0; t < tileCount && t * KEYS < count; t++) {
            float[] s = tiles[t];
            int keys = Math.min(KEYS, count - t * KEYS);
            for (int j = 0; j < keys; j += LANES) {
                VectorMask<Float> valid = SPECIES.indexInRange(j, keys);
                FloatVector p = VectorExp.exp(FloatVector.fromArray(SPECIES, s, offset + j, valid).sub(shift));
                p.intoArray(s, offset + j, valid);
                sum = sum.add(p, valid);
            }
        }
        return sumLanes(sum);
    }

    private static VectorShuffle<Float> fold(int distance) {
        return VectorShuffle.fromOp(SPECIES, i -> (i + distance) % LANES);
    }

    /** The sum of {@code v}'s lanes in the fixed tree of the folds (LANES is a power of two, at most 16). */
    private static float sumLanes(FloatVector v) {
        FloatVector folded = v.add(v.rearrange(FOLD_HALF));
        if (LANES >= 4) {
            folded = folded.add(folded.rearrange(FOLD_QUARTER));
        }
        if (LANES >= 8) {
            folded = folded.add(folded.rearrange(FOLD_EIGHTH));
        }
        if (LANES >= 16) {
            folded = folded.add(folded.rearrange(FOLD_SIXTEENTH));
        }
        return folded.lane(0);
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

package org.lacuna.runtime.cpu.kernels;

/**
 * The arithmetic inside one attention tile, on fp32 scratch arrays: {@link ScalarAttentionTileMath} for any JVM,
 * {@code VectorAttentionTileMath} where the Vector API is enabled. {@link FlashAttention} and {@link KeyAttention}
 * own the tiling, masking and softmax bookkeeping; this owns the loops that dominate the time.
 *
 * <p>Layouts: a query tile {@code q[row·dim + d]} ({@code rows} a multiple of {@link #ROW_GROUP}), keys transposed
 * {@code kt[d·KEYS + j]}, values {@code v[j·dim + d]}, scores and probabilities {@code s[row·KEYS + j]}, the output
 * accumulator {@code o[row·dim + d]}; {@code dim} is a multiple of 32 and every tile holds {@link #KEYS} keys
 * (zero-padded). Each element is summed in an order fixed by the layout alone.
 */
public interface AttentionTileMath {
    /** Keys a tile. */
    int KEYS = 64;
    /** Query rows go through the tile loops this many at a time. */
    int ROW_GROUP = 4;

    /** {@code s[i][j] = Σ_d q[i][d] · kt[d][j]} for rows {@code [0, rows)} of q from {@code qOffset}, every key. */
    void scores(float[] q, int qOffset, float[] kt, int rows, int dim, float[] s);

    /** {@code o[i][d] += Σ_j p[i][j] · v[j][d]} for rows {@code [0, rows)} of o from {@code oOffset}. */
    void accumulate(float[] p, float[] v, int rows, int dim, float[] o, int oOffset);

    /** The largest of {@code s[offset .. offset + count)}. */
    float max(float[] s, int offset, int count);

    /** {@code s[offset + j] = exp(s[offset + j] - shift)} for {@code j < count}; returns their sum. */
    float expAndSum(float[] s, int offset, int count, float shift);

    /**
     * {@link #max} over one row of several key tiles: the first {@code count} keys of the row that starts at
     * {@code offset} in each of {@code tiles[0 .. tileCount)}, key k in tile k / {@link #KEYS}.
     */
    default float max(float[][] tiles, int tileCount, int offset, int count) {
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < tileCount && t * KEYS < count; t++) {
            max = Math.max(max, max(tiles[t], offset, Math.min(KEYS, count - t * KEYS)));
        }
        return max;
    }

    /** {@link #expAndSum} over the same row of several key tiles as {@link #max(float[][], int, int, int)}. */
    default float expAndSum(float[][] tiles, int tileCount, int offset, int count, float shift) {
        float sum = 0f;
        for (int t = 0; t < tileCount && t * KEYS < count; t++) {
            sum += expAndSum(tiles[t], offset, Math.min(KEYS, count - t * KEYS), shift);
        }
        return sum;
    }

    /** {@code a[offset + j] *= factor} for {@code j < count}. */
    void scale(float[] a, int offset, int count, float factor);

    /**
     * {@code to[at + c] = scale · m[row, head, c]} for {@code c < count}: {@code count} consecutive elements of a row
     * from head {@code head}'s first one (one head, or the heads of a group in one run), widened to fp32 through
     * {@code bits} where a form needs it ({@link HalfMatrix#widen}; the same bits on every form).
     */
    default void widen(HalfMatrix m, long row, int head, int headDim, int count, float scale, short[] bits, float[] to,
                       int at) {
        m.widen(row, head, headDim, count, scale, bits, to, at);
    }

    /**
     * The converse of {@link #widen} (scale 1): {@code m[row, head, c] = from[at + c]} for {@code c < count}, each
     * rounded once to the 16-bit type ({@link HalfMatrix#narrow}; the same bits on every form).
     */
    default void narrow(float[] from, int at, HalfMatrix m, long row, int head, int headDim, int count, short[] bits) {
        m.narrow(from, at, row, head, headDim, count, bits);
    }

    /** As {@link #widen} (scale 1), into column {@code column} of a [headDim, width] matrix. */
    default void widenTransposed(HalfMatrix m, long row, int head, int headDim, short[] bits, float[] rowScratch,
                                 float[] to, int column, int width) {
        m.widenTransposed(row, head, headDim, bits, to, column, width);
    }

    /** The Vector API form where enabled, else the scalar one. */
    static AttentionTileMath of(boolean vectorApi) {
        return vectorApi ? VectorTileMathHolder.INSTANCE : ScalarAttentionTileMath.INSTANCE;
    }
}

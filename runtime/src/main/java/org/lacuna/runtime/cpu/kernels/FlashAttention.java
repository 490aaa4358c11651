package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Multi-head attention over a ragged batch, flash style, in fp32: per (sequence, head, block of
 * {@link #QUERY_BLOCK} query rows) an online softmax over key tiles of {@link AttentionTileMath#KEYS}, each taken by
 * the block's query tiles of {@link #QUERY_TILE} in turn, so the scores never leave a tile. Q, K and V are widened
 * from F16/BF16 into per-thread fp32 scratch once per block (Q pre-multiplied by the scale, K transposed for the
 * Q·Kᵀ product). Each chunk is computed by one thread from its own inputs alone, in
 * an order fixed by the shapes, so the result is the same whichever thread runs it and however many there are.
 *
 * <p>The caller runs the chunks ({@link #plan}) on its threads and zeroes rows outside every sequence.
 */
public final class FlashAttention {
    /** Query rows a tile: the scores of one tile against one key tile are the working set of the softmax. */
    public static final int QUERY_TILE = 64;
    /** Query rows a chunk: its tiles share each widened key tile, so K and V are widened once per block. */
    public static final int QUERY_BLOCK = 4 * QUERY_TILE;
    private static final int KEYS = AttentionTileMath.KEYS;
    private static final int MAX_HEAD_DIM = 128;
    /**
     * A block whose keys times head dim fit this many floats takes all its keys at once (512 keys of 64, 256 of 128):
     * each query tile's scores against every key, one softmax per row, then P·V — no running maximum to correct, no
     * rescaling of the output rows (which cost a quarter of the time at 128 tokens with two key tiles).
     */
    static final int SINGLE_PASS_FLOATS = 512 * 64;
    /** ... and at most this many keys (its tiles of scores stay in L2 beside the keys and values). */
    static final int SINGLE_PASS_KEYS = 512;
    private static final int SINGLE_PASS_TILES = SINGLE_PASS_KEYS / KEYS;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private FlashAttention() {
    }

    /** What one attention call computes. {@code logSumExp} (F32 [heads, rows]) may be null. */
    public record Problem(HalfMatrix q, HalfMatrix k, HalfMatrix v, HalfMatrix out, MemorySegment logSumExp,
                          long logSumExpOffset, long rows, int[] offsets, int heads, int headDim, boolean causal,
                          float scale) {
    }

    /** Per-thread fp32 tiles, sized for the largest head dim. */
    static final class Scratch {
        final float[] q = new float[QUERY_BLOCK * MAX_HEAD_DIM];
        final float[] kt = new float[MAX_HEAD_DIM * KEYS];
        final float[] v = new float[KEYS * MAX_HEAD_DIM];
        final float[] s = new float[QUERY_TILE * KEYS];
        final float[] o = new float[QUERY_BLOCK * MAX_HEAD_DIM];
        final float[] rowMax = new float[QUERY_BLOCK];
        final float[] rowSum = new float[QUERY_BLOCK];
        final short[] bits = new short[MAX_HEAD_DIM];
        /** One widened row on its way into a transposed tile. */
        final float[] row = new float[MAX_HEAD_DIM];
        /** The single pass's key tiles (transposed), value tiles and score tiles, one of each per tile of keys. */
        final float[][] kts = new float[SINGLE_PASS_TILES][MAX_HEAD_DIM * KEYS];
        final float[][] vs = new float[SINGLE_PASS_TILES][KEYS * MAX_HEAD_DIM];
        final float[][] ss = new float[SINGLE_PASS_TILES][QUERY_TILE * KEYS];
        /** Key attention's transposed key tiles, one per tile of its key block. */
        final float[][] keyTiles = new float[KeyAttention.KEY_BLOCK / KEYS][MAX_HEAD_DIM * KEYS];

        static Scratch get() {
            return SCRATCH.get();
        }
    }

    /**
     * The chunks of a batch: {@code {sequence, head, first query}} triples, query blocks of each (sequence, head) in
     * order. They depend on the offsets alone, never on the thread count.
     */
    public static int[][] plan(int[] offsets, int heads) {
        int count = 0;
        for (int b = 0; b + 1 < offsets.length; b++) {
            count += heads * blocks(offsets[b + 1] - offsets[b]);
        }
        int[][] chunks = new int[count][];
        int c = 0;
        for (int b = 0; b + 1 < offsets.length; b++) {
            int blocks = blocks(offsets[b + 1] - offsets[b]);
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < blocks; t++) {
                    chunks[c++] = new int[] {b, h, t * QUERY_BLOCK};
                }
            }
        }
        return chunks;
    }

    private static int blocks(int length) {
        return (length + QUERY_BLOCK - 1) / QUERY_BLOCK;
    }

    /** Computes one chunk of {@link #plan}: its rows' outputs for one head, and their log-sum-exp. */
    public static void run(Problem problem, int[] chunk, AttentionTileMath math) {
        Scratch scratch = Scratch.get();
        int sequence = chunk[0];
        int head = chunk[1];
        int m0 = chunk[2];
        int start = problem.offsets()[sequence];
        int length = problem.offsets()[sequence + 1] - start;
        int dim = problem.headDim();
        int rows = Math.min(QUERY_BLOCK, length - m0);
        float[] q = scratch.q;
        float[] o = scratch.o;
        float[] rowMax = scratch.rowMax;
        float[] rowSum = scratch.rowSum;
        for (int i = 0; i < rows; i++) {
            math.widen(problem.q(), start + m0 + i, head, dim, problem.scale(), scratch.bits, q, i * dim);
        }
        int padded = roundUp(rows);
        Arrays.fill(q, rows * dim, padded * dim, 0f);
        Arrays.fill(o, 0, padded * dim, 0f);
        Arrays.fill(rowMax, 0, rows, Float.NEGATIVE_INFINITY);
        Arrays.fill(rowSum, 0, rows, 0f);

        // Causal: the block's last query sees no key after itself.
        int keyEnd = problem.causal() ? m0 + rows : length;
        if (keyEnd <= SINGLE_PASS_KEYS && keyEnd * dim <= SINGLE_PASS_FLOATS) {
            singlePass(problem, start, m0, rows, keyEnd, head, dim, scratch, math);
        } else {
            online(problem, start, m0, rows, keyEnd, head, dim, scratch, math);
        }

        for (int i = 0; i < rows; i++) {
            long row = start + m0 + i;
            problem.out().narrow(row, head, dim, o, i * dim, 1f / rowSum[i], scratch.bits);
            if (problem.logSumExp() != null) {
                // StrictMath: one result whichever thread or JIT tier computes it.
                float lse = (float) (rowMax[i] + StrictMath.log(rowSum[i]));
                problem.logSumExp().set(ValueLayout.JAVA_FLOAT_UNALIGNED,
                        problem.logSumExpOffset() + 4 * (head * problem.rows() + row), lse);
            }
        }
    }

    /** Key tiles in turn with a running maximum per row (flash attention proper), for blocks with many keys. */
    private static void online(Problem problem, int start, int m0, int rows, int keyEnd, int head, int dim,
                               Scratch scratch, AttentionTileMath math) {
        float[] q = scratch.q;
        float[] o = scratch.o;
        float[] s = scratch.s;
        float[] rowMax = scratch.rowMax;
        float[] rowSum = scratch.rowSum;
        for (int n0 = 0; n0 < keyEnd; n0 += KEYS) {
            int keys = Math.min(KEYS, keyEnd - n0);
            loadKeysAndValues(problem, start + n0, keys, head, dim, scratch, scratch.kt, scratch.v, math);
            // Every query tile of the block takes this key tile while it is in cache: widened once per block.
            for (int t0 = 0; t0 < rows; t0 += QUERY_TILE) {
                int tileRows = Math.min(QUERY_TILE, rows - t0);
                if (problem.causal() && n0 > m0 + t0 + tileRows - 1) {
                    continue; // every query of this tile comes before every key here
                }
                int tilePadded = roundUp(tileRows);
                math.scores(q, t0 * dim, scratch.kt, tilePadded, dim, s);
                for (int i = 0; i < tileRows; i++) {
                    int row = i * KEYS;
                    int r = t0 + i;
                    // Keys this query sees in the tile: all loaded ones, or (causal) those at or before it.
                    int visible = problem.causal() ? Math.min(keys, m0 + r - n0 + 1) : keys;
                    if (visible <= 0) {
                        Arrays.fill(s, row, row + KEYS, 0f);
                        continue;
                    }
                    float max = Math.max(rowMax[r], math.max(s, row, visible));
                    float correction = FastExp.exp(rowMax[r] - max); // exp(-inf) = 0 on the first tile
                    if (correction != 1f) {
                        rowSum[r] *= correction;
                        math.scale(o, r * dim, dim, correction);
                    }
                    rowSum[r] += math.expAndSum(s, row, visible, max);
                    rowMax[r] = max;
                    Arrays.fill(s, row + visible, row + KEYS, 0f);
                }
                Arrays.fill(s, tileRows * KEYS, tilePadded * KEYS, 0f);
                math.accumulate(s, scratch.v, tilePadded, dim, o, t0 * dim);
            }
        }
    }

    /**
     * Every key of the block at once: each query tile's scores against all key tiles, the row's maximum over all of
     * them, its exponentials and their sum tile by tile in key order, then P·V tile by tile.
     */
    private static void singlePass(Problem problem, int start, int m0, int rows, int keyEnd, int head, int dim,
                                   Scratch scratch, AttentionTileMath math) {
        int keyTiles = (keyEnd + KEYS - 1) / KEYS;
        for (int t = 0; t < keyTiles; t++) {
            int n0 = t * KEYS;
            loadKeysAndValues(problem, start + n0, Math.min(KEYS, keyEnd - n0), head, dim, scratch, scratch.kts[t],
                    scratch.vs[t], math);
        }
        for (int t0 = 0; t0 < rows; t0 += QUERY_TILE) {
            int tileRows = Math.min(QUERY_TILE, rows - t0);
            int tilePadded = roundUp(tileRows);
            // Causal: this tile's last query sees no key after itself.
            int tileKeys = problem.causal() ? Math.min(keyEnd, m0 + t0 + tileRows) : keyEnd;
            int tiles = (tileKeys + KEYS - 1) / KEYS;
            for (int t = 0; t < tiles; t++) {
                math.scores(scratch.q, t0 * dim, scratch.kts[t], tilePadded, dim, scratch.ss[t]);
            }
            for (int i = 0; i < tileRows; i++) {
                int r = t0 + i;
                int row = i * KEYS;
                int visible = problem.causal() ? Math.min(tileKeys, m0 + r + 1) : tileKeys;
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t < tiles; t++) {
                    int count = Math.min(KEYS, visible - t * KEYS);
                    if (count > 0) {
                        max = Math.max(max, math.max(scratch.ss[t], row, count));
                    }
                }
                float sum = 0f;
                for (int t = 0; t < tiles; t++) {
                    float[] s = scratch.ss[t];
                    int count = Math.max(0, Math.min(KEYS, visible - t * KEYS));
                    if (count > 0) {
                        sum += math.expAndSum(s, row, count, max);
                    }
                    Arrays.fill(s, row + count, row + KEYS, 0f);
                }
                scratch.rowMax[r] = max;
                scratch.rowSum[r] = sum;
            }
            for (int t = 0; t < tiles; t++) {
                float[] s = scratch.ss[t];
                Arrays.fill(s, tileRows * KEYS, tilePadded * KEYS, 0f);
                math.accumulate(s, scratch.vs[t], tilePadded, dim, scratch.o, t0 * dim);
            }
        }
    }

    /** {@code rows} rounded up to whole row groups of the tile loops. */
    static int roundUp(int rows) {
        return (rows + AttentionTileMath.ROW_GROUP - 1) / AttentionTileMath.ROW_GROUP * AttentionTileMath.ROW_GROUP;
    }

    /** Widens keys [first, first + keys) of one head into kt (transposed) and v, zero-padding both to a full tile. */
    static void loadKeysAndValues(Problem problem, long first, int keys, int head, int dim, Scratch scratch, float[] kt,
                                  float[] v, AttentionTileMath math) {
        for (int j = 0; j < keys; j++) {
            math.widenTransposed(problem.k(), first + j, head, dim, scratch.bits, scratch.row, kt, j, KEYS);
            math.widen(problem.v(), first + j, head, dim, 1f, scratch.bits, v, j * dim);
        }
        if (keys < KEYS) {
            for (int d = 0; d < dim; d++) {
                Arrays.fill(kt, d * KEYS + keys, (d + 1) * KEYS, 0f);
            }
            Arrays.fill(v, keys * dim, KEYS * dim, 0f);
        }
    }
}

package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Multi-head attention over a ragged batch, flash style, in fp32: per (sequence, group of heads, block of
 * {@link #QUERY_BLOCK} query rows) an online softmax over key tiles of {@link AttentionTileMath#KEYS}, each taken by
 * the block's query tiles of {@link #QUERY_TILE} in turn, so the scores never leave a tile. Q, K and V are widened
 * from F16/BF16 into per-thread fp32 scratch once per block, a row at a time for every head of the group (the heads
 * of a row side by side, so the reads run along the row: rows of a packed QKV tensor lie too far apart for the
 * prefetcher), into per-head tiles (Q pre-multiplied by the scale, K transposed for the Q·Kᵀ product), through the
 * tile math's conversions (in place on the Vector API); the output rows go back the same way. Each head's arithmetic is the same whatever group it is in, and each chunk is computed
 * by one thread from its own inputs alone, in an order fixed by the shapes, so the result is the same whichever
 * thread runs it and however many there are.
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
    /** A head group spans at most this many columns of a row (all twelve heads of 32 of a MiniLM layer). */
    static final int GROUP_COLUMNS = 384;
    /** ... and its widened keys at most this many floats (as many again for the values), so both stay in L2. */
    static final int GROUP_KEY_FLOATS = 64 * 1024;
    /** Groups shrink (to one head at the least) until a call has this many chunks to share among threads. */
    static final int MIN_CHUNKS = 4;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private FlashAttention() {
    }

    /** What one attention call computes. {@code logSumExp} (F32 [heads, rows]) may be null. */
    public record Problem(HalfMatrix q, HalfMatrix k, HalfMatrix v, HalfMatrix out, MemorySegment logSumExp,
                          long logSumExpOffset, long rows, int[] offsets, int heads, int headDim, boolean causal,
                          float scale) {
    }

    /** Per-thread fp32 tiles, sized for the largest head dim; the per-head ones of a group grow as groups need. */
    static final class Scratch {
        final float[] q = new float[QUERY_BLOCK * MAX_HEAD_DIM];
        final float[] s = new float[QUERY_TILE * KEYS];
        final short[] bits = new short[Math.max(GROUP_COLUMNS, MAX_HEAD_DIM)];
        /** One widened row on its way into a transposed tile. */
        final float[] row = new float[Math.max(GROUP_COLUMNS, MAX_HEAD_DIM)];
        /** Per head of a group: its query block, output accumulator, row maxima and row sums. */
        float[][] qs = new float[0][];
        float[][] os = new float[0][];
        float[][] rowMaxes = new float[0][];
        float[][] rowSums = new float[0][];
        /** Per head of a group and tile of keys ({@code head · SINGLE_PASS_TILES + tile}): keys (transposed), values. */
        float[][] kts = new float[0][];
        float[][] vs = new float[0][];
        /** The single pass's score tiles, one per tile of keys (one head at a time). */
        final float[][] ss = new float[SINGLE_PASS_TILES][QUERY_TILE * KEYS];
    /** Key attention's transposed key tiles, one per tile of its key block. */
        final float[][] keyTiles = new float[KeyAttention.KEY_BLOCK / KEYS][MAX_HEAD_DIM * KEYS];

        static Scratch get() {
            return SCRATCH.get();
        }

        /** Makes room for {@code heads} heads of {@code dim}, each with {@code tiles} tiles of keys and values. */
        void reserve(int heads, int dim, int tiles) {
            if (qs.length < heads) {
                qs = Arrays.copyOf(qs, heads);
                os = Arrays.copyOf(os, heads);
                rowMaxes = Arrays.copyOf(rowMaxes, heads);
                rowSums = Arrays.copyOf(rowSums, heads);
                kts = Arrays.copyOf(kts, heads * SINGLE_PASS_TILES);
                vs = Arrays.copyOf(vs, heads * SINGLE_PASS_TILES);
            }
            for (int g = 0; g < heads; g++) {
                qs[g] = atLeast(qs[g], QUERY_BLOCK * dim);
                os[g] = atLeast(os[g], QUERY_BLOCK * dim);
                rowMaxes[g] = atLeast(rowMaxes[g], QUERY_BLOCK);
                rowSums[g] = atLeast(rowSums[g], QUERY_BLOCK);
                for (int t = 0; t < tiles; t++) {
                    kts[g * SINGLE_PASS_TILES + t] = atLeast(kts[g * SINGLE_PASS_TILES + t], dim * KEYS);
                    vs[g * SINGLE_PASS_TILES + t] = atLeast(vs[g * SINGLE_PASS_TILES + t], KEYS * dim);
                }
            }
        }

        private static float[] atLeast(float[] array, int length) {
            return array != null && array.length >= length ? array : new float[length];
        }
    }

    /**
     * The chunks of a batch: {@code {sequence, first head, heads, first query}}, query blocks of each (sequence, head
     * group) in order. They depend on the shapes alone, never on the thread count.
     */
    public static int[][] plan(int[] offsets, int heads, int headDim) {
        int group = groupHeads(offsets, heads, headDim);
        int count = chunkCount(offsets, heads / group);
        int[][] chunks = new int[count][];
        int c = 0;
        for (int b = 0; b + 1 < offsets.length; b++) {
            int blocks = blocks(offsets[b + 1] - offsets[b]);
            for (int h = 0; h < heads; h += group) {
                for (int t = 0; t < blocks; t++) {
                    chunks[c++] = new int[] {b, h, group, t * QUERY_BLOCK};
                }
            }
        }
        return chunks;
    }

    /**
     * Heads a chunk: the largest divisor of {@code heads} whose group fits {@link #GROUP_COLUMNS} and
     * {@link #GROUP_KEY_FLOATS} and leaves {@link #MIN_CHUNKS} chunks (or one head, if even that leaves fewer).
     */
    static int groupHeads(int[] offsets, int heads, int headDim) {
        int longest = 0;
        for (int b = 0; b + 1 < offsets.length; b++) {
            longest = Math.max(longest, offsets[b + 1] - offsets[b]);
        }
        long keysAtOnce = Math.min(longest, SINGLE_PASS_KEYS);
        int wanted = Math.min(MIN_CHUNKS, chunkCount(offsets, heads));
        for (int group = heads; group > 1; group--) {
            if (heads % group == 0 && group * headDim <= GROUP_COLUMNS
                    && group * keysAtOnce * headDim <= GROUP_KEY_FLOATS
                    && chunkCount(offsets, heads / group) >= wanted) {
                return group;
            }
        }
        return 1;
    }

    private static int chunkCount(int[] offsets, int groups) {
        int count = 0;
        for (int b = 0; b + 1 < offsets.length; b++) {
            count += groups * blocks(offsets[b + 1] - offsets[b]);
        }
        return count;
    }

    private static int blocks(int length) {
        return (length + QUERY_BLOCK - 1) / QUERY_BLOCK;
    }

    /** Computes one chunk of {@link #plan}: its rows' outputs for its heads, and their log-sum-exp. */
    public static void run(Problem problem, int[] chunk, AttentionTileMath math) {
        Scratch scratch = Scratch.get();
        int sequence = chunk[0];
        int head0 = chunk[1];
        int group = chunk[2];
        int m0 = chunk[3];
        int start = problem.offsets()[sequence];
        int length = problem.offsets()[sequence + 1] - start;
        int dim = problem.headDim();
        int rows = Math.min(QUERY_BLOCK, length - m0);
        int padded = roundUp(rows);
        // Causal: the block's last query sees no key after itself.
        int keyEnd = problem.causal() ? m0 + rows : length;
        boolean singlePass = keyEnd <= SINGLE_PASS_KEYS && keyEnd * dim <= SINGLE_PASS_FLOATS;
        scratch.reserve(group, dim, singlePass ? (keyEnd + KEYS - 1) / KEYS : 1);
        for (int i = 0; i < rows; i++) {
            for (int g = 0; g < group; g++) {
                math.widen(problem.q(), start + m0 + i, head0 + g, dim, dim, problem.scale(), scratch.bits,
                        scratch.qs[g], i * dim);
            }
        }
        for (int g = 0; g < group; g++) {
            Arrays.fill(scratch.qs[g], rows * dim, padded * dim, 0f);
            Arrays.fill(scratch.os[g], 0, padded * dim, 0f);
            Arrays.fill(scratch.rowMaxes[g], 0, rows, Float.NEGATIVE_INFINITY);
            Arrays.fill(scratch.rowSums[g], 0, rows, 0f);
        }

        if (singlePass) {
            int keyTiles = (keyEnd + KEYS - 1) / KEYS;
            for (int t = 0; t < keyTiles; t++) {
                int n0 = t * KEYS;
                loadKeysAndValues(problem, start + n0, Math.min(KEYS, keyEnd - n0), head0, group, dim, t, scratch,
                        math);
            }
            for (int g = 0; g < group; g++) {
                singlePass(problem, m0, rows, keyEnd, g, dim, scratch, math);
            }
        } else {
            for (int n0 = 0; n0 < keyEnd; n0 += KEYS) {
                int keys = Math.min(KEYS, keyEnd - n0);
                loadKeysAndValues(problem, start + n0, keys, head0, group, dim, 0, scratch, math);
                for (int g = 0; g < group; g++) {
                    onlineTile(problem, m0, rows, n0, keys, g, dim, scratch, math);
                }
            }
        }

        for (int i = 0; i < rows; i++) {
            long row = start + m0 + i;
            for (int g = 0; g < group; g++) {
                // The accumulator is done with: normalised in place, then rounded once into the output row.
                math.scale(scratch.os[g], i * dim, dim, 1f / scratch.rowSums[g][i]);
                math.narrow(scratch.os[g], i * dim, problem.out(), row, head0 + g, dim, dim, scratch.bits);
            }
            for (int g = 0; problem.logSumExp() != null && g < group; g++) {
                // StrictMath: one result whichever thread or JIT tier computes it.
                float lse = (float) (scratch.rowMaxes[g][i] + StrictMath.log(scratch.rowSums[g][i]));
                problem.logSumExp().set(ValueLayout.JAVA_FLOAT_UNALIGNED,
                        problem.logSumExpOffset() + 4 * ((head0 + g) * problem.rows() + row), lse);
            }
        }
    }

    /**
     * One key tile of one head of the group, loaded in tile 0 of its keys and values, with a running maximum per
     * row (flash attention proper), for blocks with many keys; every query tile of the block takes it in turn.
     */
    private static void onlineTile(Problem problem, int m0, int rows, int n0, int keys, int g, int dim,
                                   Scratch scratch, AttentionTileMath math) {
        float[] q = scratch.qs[g];
        float[] o = scratch.os[g];
        float[] s = scratch.s;
        float[] rowMax = scratch.rowMaxes[g];
        float[] rowSum = scratch.rowSums[g];
        float[] kt = scratch.kts[g * SINGLE_PASS_TILES];
        float[] v = scratch.vs[g * SINGLE_PASS_TILES];
        for (int t0 = 0; t0 < rows; t0 += QUERY_TILE) {
            int tileRows = Math.min(QUERY_TILE, rows - t0);
            if (problem.causal() && n0 > m0 + t0 + tileRows - 1) {
                continue; // every query of this tile comes before every key here
            }
            int tilePadded = roundUp(tileRows);
            math.scores(q, t0 * dim, kt, tilePadded, dim, s);
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
            math.accumulate(s, v, tilePadded, dim, o, t0 * dim);
        }
    }

    /**
     * Every key of the block at once, for head {@code g} of the group: each query tile's scores against all key tiles,
     * the row's maximum over all of them, its exponentials and their sum across the tiles
     * ({@link AttentionTileMath#expAndSum(float[][], int, int, int, float)}: one reduction a row on the Vector API, in
     * an order fixed by the row's length), then P·V tile by tile.
     */
    private static void singlePass(Problem problem, int m0, int rows, int keyEnd, int g, int dim, Scratch scratch,
                                   AttentionTileMath math) {
        float[] q = scratch.qs[g];
        float[] o = scratch.os[g];
        int tilesOf = g * SINGLE_PASS_TILES;
        for (int t0 = 0; t0 < rows; t0 += QUERY_TILE) {
            int tileRows = Math.min(QUERY_TILE, rows - t0);
            int tilePadded = roundUp(tileRows);
            // Causal: this tile's last query sees no key after itself.
            int tileKeys = problem.causal() ? Math.min(keyEnd, m0 + t0 + tileRows) : keyEnd;
            int tiles = (tileKeys + KEYS - 1) / KEYS;
            for (int t = 0; t < tiles; t++) {
                math.scores(q, t0 * dim, scratch.kts[tilesOf + t], tilePadded, dim, scratch.ss[t]);
            }
            for (int i = 0; i < tileRows; i++) {
                int r = t0 + i;
                int row = i * KEYS;
                int visible = problem.causal() ? Math.min(tileKeys, m0 + r + 1) : tileKeys;
                float max = math.max(scratch.ss, tiles, row, visible);
                float sum = math.expAndSum(scratch.ss, tiles, row, visible, max);
                for (int t = 0; t < tiles; t++) {
                    int count = Math.max(0, Math.min(KEYS, visible - t * KEYS));
                    Arrays.fill(scratch.ss[t], row + count, row + KEYS, 0f);
                }
                scratch.rowMaxes[g][r] = max;
                scratch.rowSums[g][r] = sum;
            }
            for (int t = 0; t < tiles; t++) {
                float[] s = scratch.ss[t];
                Arrays.fill(s, tileRows * KEYS, tilePadded * KEYS, 0f);
                math.accumulate(s, scratch.vs[tilesOf + t], tilePadded, dim, o, t0 * dim);
            }
        }
    }

    /** {@code rows} rounded up to whole row groups of the tile loops. */
    static int roundUp(int rows) {
        return (rows + AttentionTileMath.ROW_GROUP - 1) / AttentionTileMath.ROW_GROUP * AttentionTileMath.ROW_GROUP;
    }

    /**
     * Widens keys [first, first + keys) of the group's heads into each head's key tile {@code tile} (transposed) and
     * value tile, a row of every head at a time, zero-padding both to a full tile.
     */
    private static void loadKeysAndValues(Problem problem, long first, int keys, int head0, int group, int dim,
                                          int tile, Scratch scratch, AttentionTileMath math) {
        int columns = group * dim;
        float[] row = scratch.row;
        for (int j = 0; j < keys; j++) {
            math.widen(problem.k(), first + j, head0, dim, columns, 1f, scratch.bits, row, 0);
            for (int g = 0; g < group; g++) {
                float[] kt = scratch.kts[g * SINGLE_PASS_TILES + tile];
                for (int d = 0; d < dim; d++) {
                    kt[d * KEYS + j] = row[g * dim + d];
                }
            }
            for (int g = 0; g < group; g++) {
                math.widen(problem.v(), first + j, head0 + g, dim, dim, 1f, scratch.bits,
                        scratch.vs[g * SINGLE_PASS_TILES + tile], j * dim);
            }
        }
        for (int g = 0; keys < KEYS && g < group; g++) {
            float[] kt = scratch.kts[g * SINGLE_PASS_TILES + tile];
            for (int d = 0; d < dim; d++) {
                Arrays.fill(kt, d * KEYS + keys, (d + 1) * KEYS, 0f);
            }
            Arrays.fill(scratch.vs[g * SINGLE_PASS_TILES + tile], keys * dim, KEYS * dim, 0f);
        }
    }
}

package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The attention each key received in a forward pass, averaged over heads, from the forward's row log-sum-exp:
 * {@code score[j] = 1/(H·Q) Σ_h Σ_i exp(scale·q_i·k_j − lse_h[i])} over the Q queries counted (the first one for a
 * CLS score, all for the mean), causal keys only from the queries at or after them. A chunk is one (sequence, block
 * of {@link #KEY_BLOCK} keys): it runs every head and query tile over its key tiles through {@link FlashAttention}'s
 * tile math, so each key's sum is taken by one thread in a fixed order (heads, then queries ascending) and never
 * needs combining.
 */
public final class KeyAttention {
    private static final int KEYS = AttentionTileMath.KEYS;
    /** Keys a chunk: its key tiles share each widened query tile, so Q is widened once per block. */
    static final int KEY_BLOCK = 4 * KEYS;

    private KeyAttention() {
    }

    /** What one call computes: the forward's operands and lse, and F32 scores [rows] at {@code scoresOffset}. */
    public record Problem(HalfMatrix q, HalfMatrix k, MemorySegment logSumExp, long logSumExpOffset, MemorySegment scores,
                          long scoresOffset, long rows, int[] offsets, int heads, int headDim, boolean causal,
                          float scale, boolean clsOnly) {
    }

    /** The chunks: {@code {sequence, first key}} pairs, key blocks in order; they depend on the offsets alone. */
    public static int[][] plan(int[] offsets) {
        int count = 0;
        for (int b = 0; b + 1 < offsets.length; b++) {
            count += (offsets[b + 1] - offsets[b] + KEY_BLOCK - 1) / KEY_BLOCK;
        }
        int[][] chunks = new int[count][];
        int c = 0;
        for (int b = 0; b + 1 < offsets.length; b++) {
            for (int n0 = 0; n0 < offsets[b + 1] - offsets[b]; n0 += KEY_BLOCK) {
                chunks[c++] = new int[] {b, n0};
            }
        }
        return chunks;
    }

    public static void run(Problem problem, int[] chunk, AttentionTileMath math) {
        FlashAttention.Scratch scratch = FlashAttention.Scratch.get();
        int start = problem.offsets()[chunk[0]];
        int length = problem.offsets()[chunk[0] + 1] - start;
        int b0 = chunk[1];
        int blockKeys = Math.min(KEY_BLOCK, length - b0);
        int tiles = (blockKeys + KEYS - 1) / KEYS;
        int dim = problem.headDim();
        int queries = problem.clsOnly() ? Math.min(1, length) : length;
        float[] received = new float[KEY_BLOCK];
        float[] q = scratch.q;
        float[] s = scratch.s;
        for (int h = 0; h < problem.heads(); h++) {
            for (int t = 0; t < tiles; t++) {
                float[] kt = scratch.keyTiles[t];
                int keys = Math.min(KEYS, blockKeys - t * KEYS);
                for (int j = 0; j < keys; j++) {
                    math.widenTransposed(problem.k(), start + b0 + t * KEYS + j, h, dim, scratch.bits, scratch.row,
                            kt, j, KEYS);
                }
                for (int d = 0; keys < KEYS && d < dim; d++) {
                    Arrays.fill(kt, d * KEYS + keys, (d + 1) * KEYS, 0f);
                }
            }
            // Causal: queries before the block's first key see none of its keys.
            int firstTile = problem.causal() ? b0 / FlashAttention.QUERY_TILE * FlashAttention.QUERY_TILE : 0;
            for (int m0 = firstTile; m0 < queries; m0 += FlashAttention.QUERY_TILE) {
                int rows = Math.min(FlashAttention.QUERY_TILE, queries - m0);
                int padded = FlashAttention.roundUp(rows);
                for (int i = 0; i < rows; i++) {
                    math.widen(problem.q(), start + m0 + i, h, dim, dim, problem.scale(), scratch.bits, q, i * dim);
                }
                Arrays.fill(q, rows * dim, padded * dim, 0f);
                // The widened query tile serves every key tile of the block.
                for (int t = 0; t < tiles; t++) {
                    int n0 = b0 + t * KEYS;
                    int keys = Math.min(KEYS, blockKeys - t * KEYS);
                    if (problem.causal() && m0 + rows - 1 < n0) {
                        break; // no query of this tile reaches this key tile or the later ones
                    }
                    math.scores(q, 0, scratch.keyTiles[t], padded, dim, s);
                    for (int i = 0; i < rows; i++) {
                        int visible = problem.causal() ? Math.min(keys, m0 + i - n0 + 1) : keys;
                        if (visible <= 0) {
                            continue;
                        }
                        float lse = problem.logSumExp().get(ValueLayout.JAVA_FLOAT_UNALIGNED,
                                problem.logSumExpOffset() + 4 * (h * problem.rows() + start + m0 + i));
                        math.expAndSum(s, i * KEYS, visible, lse);
                        for (int j = 0; j < visible; j++) {
                            received[t * KEYS + j] += s[i * KEYS + j];
                        }
                    }
                }
            }
        }
        float normaliser = 1f / ((float) problem.heads() * (problem.clsOnly() ? 1 : length));
        for (int j = 0; j < blockKeys; j++) {
            problem.scores().set(ValueLayout.JAVA_FLOAT_UNALIGNED, problem.scoresOffset() + 4 * (start + b0 + j),
                    received[j] * normaliser);
        }
    }
}

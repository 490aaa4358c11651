package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.HalfFloats;

/**
 * Flash attention's head groups (a chunk widens and writes every head of its group a row at a time): the plan groups
 * heads where the shapes allow, and a grouped chunk gives each head exactly the bits of a chunk of that head alone,
 * on the single-pass and the online path, causal or not, F16 and BF16, scalar and Vector API tile math.
 */
class FlashAttentionGroupingTest {
    private static final int HEADS = 12;

    @Test
    void planGroupsHeadsByShapeAndKeepsChunksForTheThreads() {
        // MiniLM at batch 1: groups of three heads leave four chunks; at batch 32 one chunk per sequence.
        assertEquals(3, FlashAttention.groupHeads(offsets(128), HEADS, 32));
        assertEquals(HEADS, FlashAttention.groupHeads(offsets(new int[32], 128), HEADS, 32));
        assertEquals(32, FlashAttention.plan(offsets(new int[32], 128), HEADS, 32).length);
        // Long sequences: the group's keys would leave L2, so fewer heads a group.
        assertEquals(2, FlashAttention.groupHeads(offsets(new int[8], 512), HEADS, 64));
        // Head dim 128 over 12 heads: at most three heads (384 columns) a group.
        assertEquals(3, FlashAttention.groupHeads(offsets(new int[32], 64), HEADS, 128));
    }

    @Test
    void groupedChunksGiveEachHeadTheBitsOfItsOwnChunk() {
        SplittableRandom random = new SplittableRandom(11);
        // Ragged with empty and one-row sequences; 600 keys take the online path.
        int[][] shapes = {{1, 77, 130}, {600, 0, 5}};
        for (int dim : new int[] {32, 64}) {
            for (int[] lengths : shapes) {
                for (boolean causal : new boolean[] {false, true}) {
                    for (boolean bf16 : new boolean[] {false, true}) {
                        // The scalar tile math on the short sequences only: the same tiling, at a fraction of the cost.
                        for (boolean vector : lengths[0] > 512 ? new boolean[] {true} : new boolean[] {false, true}) {
                            String what = "dim " + dim + " lengths " + java.util.Arrays.toString(lengths) + " causal "
                                    + causal + (bf16 ? " BF16" : " F16") + (vector ? " vector" : " scalar");
                            compare(lengths, dim, causal, bf16, AttentionTileMath.of(vector), random, what);
                        }
                    }
                }
            }
        }
    }

    private static void compare(int[] lengths, int dim, boolean causal, boolean bf16, AttentionTileMath math,
                                SplittableRandom random, String what) {
        int[] offsets = offsets(lengths);
        int rows = offsets[lengths.length];
        int width = HEADS * dim;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment qkv = arena.allocate(2L * rows * 3 * width);
            for (long i = 0; i < (long) rows * 3 * width; i++) {
                float value = (float) random.nextDouble(-3, 3);
                qkv.setAtIndex(ValueLayout.JAVA_SHORT, i, bf16 ? HalfFloats.toBf16(value) : HalfFloats.toF16(value));
            }
            int[][] grouped = FlashAttention.plan(offsets, HEADS, dim);
            int[][] single = new int[grouped.length * HEADS][];
            int n = 0;
            for (int[] chunk : grouped) {
                assertTrue(chunk[2] > 1 || lengths.length * HEADS < FlashAttention.MIN_CHUNKS, what + ": no grouping");
                for (int g = 0; g < chunk[2]; g++) {
                    single[n++] = new int[] {chunk[0], chunk[1] + g, 1, chunk[3]};
                }
            }
            float[][] want = run(arena, qkv, rows, offsets, dim, causal, bf16, math, java.util.Arrays.copyOf(single, n));
            float[][] got = run(arena, qkv, rows, offsets, dim, causal, bf16, math, grouped);
            for (int part = 0; part < 2; part++) {
                for (int i = 0; i < want[part].length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[part][i]), Float.floatToRawIntBits(got[part][i]),
                            what + (part == 0 ? " out " : " lse ") + i);
                }
            }
        }
    }

    /** The output (widened) and log-sum-exp of the chunks run in order, into buffers poisoned with NaN. */
    private static float[][] run(Arena arena, MemorySegment qkv, int rows, int[] offsets, int dim, boolean causal,
                                 boolean bf16, AttentionTileMath math, int[][] chunks) {
        int width = HEADS * dim;
        MemorySegment out = arena.allocate(2L * rows * width);
        out.fill((byte) 0x7F);
        MemorySegment lse = arena.allocate(4L * HEADS * rows);
        for (long i = 0; i < (long) HEADS * rows; i++) {
            lse.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.NaN);
        }
        FlashAttention.Problem problem = new FlashAttention.Problem(new HalfMatrix(qkv, 0, bf16, 3L * width, 0),
                new HalfMatrix(qkv, 0, bf16, 3L * width, width), new HalfMatrix(qkv, 0, bf16, 3L * width, 2L * width),
                new HalfMatrix(out, 0, bf16, width, 0), lse, 0, rows, offsets, HEADS, dim, causal,
                (float) (1 / Math.sqrt(dim)));
        for (int[] chunk : chunks) {
            FlashAttention.run(problem, chunk, math);
        }
        float[] o = new float[rows * width];
        for (int i = 0; i < o.length; i++) {
            short bits = out.getAtIndex(ValueLayout.JAVA_SHORT, i);
            o[i] = bf16 ? HalfFloats.fromBf16(bits) : HalfFloats.fromF16(bits);
        }
        return new float[][] {o, lse.toArray(ValueLayout.JAVA_FLOAT)};
    }

    private static int[] offsets(int... lengths) {
        int[] offsets = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) {
            offsets[b + 1] = offsets[b] + lengths[b];
        }
        return offsets;
    }

    private static int[] offsets(int[] batch, int length) {
        java.util.Arrays.fill(batch, length);
        return offsets(batch);
    }
}

package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sparse tiles on the Vector API. Two weight rows are worked at once against a tile of four token vectors
 * (eight independent accumulator chains), or of one token vector when a call has too few tokens to fill four. Each
 * stored weight value is broadcast once and multiplied into every token vector of its row, which spreads reading the
 * value and decoding its position over four multiply-adds. Panels are read from 64-byte aligned native memory:
 * measured on AVX-512, unaligned heap loads cost about a third of the speed. Loads go through a slice of the
 * panel per 2:4 group (per CSR entry) whose length is a constant: the JIT then proves every load in bounds from the
 * 2-bit position's range, one check per slice instead of one per load (about a quarter of the kernel's time).
 *
 * <p>The bodies are written out (the JIT keeps named vectors in registers, not arrays of them) and kept small on
 * purpose: a four-row body overflowed C1's register allocator at the profiling tier, which left the method in C1
 * code that does not intrinsify the Vector API, about 70 times slower. Loaded only when {@code jdk.incubator.vector}
 * is present.
 */
final class VectorSparseTiles implements SparseTiles {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final long VECTOR_BYTES = 4L * LANES;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** The wide tile: four vectors of tokens. */
    private static final int WIDE = 4 * LANES;

    private VectorSparseTiles() {
    }

    static SparseTiles create() {
        return new VectorSparseTiles();
    }

    @Override
    public int tileTokens(int tokens) {
        return tokens > 2 * LANES ? WIDE : LANES;
    }

    @Override
    public void twoFour(TwoFourMatrix w, int row0, int rows, int group0, int group1, MemorySegment panel,
                        long panelOffset, int tileTokens, float[] c, int cOffset) {
        long base = 4 * panelOffset;
        if (tileTokens == WIDE) {
            if (rows == 2) {
                twoFourTwoRowsWide(w, row0, group0, group1, panel, base, c, cOffset);
            } else {
                twoFourOneRowWide(w, row0, group0, group1, panel, base, c, cOffset);
            }
        } else if (rows == 2) {
            twoFourTwoRowsNarrow(w, row0, group0, group1, panel, base, c, cOffset);
        } else {
            twoFourOneRowNarrow(w, row0, group0, group1, panel, base, c, cOffset);
        }
    }

    @Override
    public void csr(CsrRows w, int row0, int rows, MemorySegment panel, long panelOffset, int tileTokens, float[] c,
                    int cOffset) {
        int[] offsets = w.rowOffsets();
        long base = 4 * panelOffset;
        boolean wide = tileTokens == WIDE;
        int common = 0;
        if (rows == 2) {
            // The rows advance together through their common length (independent chains), then each finishes
            // alone; every row still sums its own entries in stored order.
            common = Math.min(offsets[row0 + 1] - offsets[row0], offsets[row0 + 2] - offsets[row0 + 1]);
            if (wide) {
                csrTwoRowsWide(w, row0, common, panel, base, c, cOffset);
            } else {
                csrTwoRowsNarrow(w, row0, common, panel, base, c, cOffset);
            }
        }
        for (int r = 0; r < rows; r++) {
            int begin = offsets[row0 + r] + common;
            int end = offsets[row0 + r + 1];
            if (wide) {
                csrOneRowWide(w, begin, end, panel, base, c, cOffset + r * WIDE);
            } else {
                csrOneRowNarrow(w, begin, end, panel, base, c, cOffset + r * LANES);
            }
        }
    }

    private static void twoFourOneRowWide(TwoFourMatrix w, int row0, int group0, int group1, MemorySegment panel,
            long base, float[] c, int cOffset) {
        float[] values = w.values();
        byte[] nibbles = w.nibbles();
        int groups = w.groups();
        int b0 = (row0 + 0) * groups;
        FloatVector a00 = FloatVector.fromArray(SPECIES, c, cOffset + 0 * LANES);
        FloatVector a01 = FloatVector.fromArray(SPECIES, c, cOffset + 1 * LANES);
        FloatVector a02 = FloatVector.fromArray(SPECIES, c, cOffset + 2 * LANES);
        FloatVector a03 = FloatVector.fromArray(SPECIES, c, cOffset + 3 * LANES);
        for (int g = group0; g < group1; g++) {
            MemorySegment group = panel.asSlice(base + 4L * g * 4L * WIDE, 4L * 4L * WIDE);
            int n = nibbles[b0 + g];
            long x0 = (n & 3) * 4L * WIDE;
            long x1 = ((n >>> 2) & 3) * 4L * WIDE;
            FloatVector v0 = FloatVector.broadcast(SPECIES, values[2 * (b0 + g)]);
            FloatVector v1 = FloatVector.broadcast(SPECIES, values[2 * (b0 + g) + 1]);
            a00 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0, ORDER), a00);
            a01 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0 + 1 * VECTOR_BYTES, ORDER), a01);
            a02 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0 + 2 * VECTOR_BYTES, ORDER), a02);
            a03 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0 + 3 * VECTOR_BYTES, ORDER), a03);
            a00 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1, ORDER), a00);
            a01 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1 + 1 * VECTOR_BYTES, ORDER), a01);
            a02 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1 + 2 * VECTOR_BYTES, ORDER), a02);
            a03 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1 + 3 * VECTOR_BYTES, ORDER), a03);
        }
        a00.intoArray(c, cOffset + 0 * LANES);
        a01.intoArray(c, cOffset + 1 * LANES);
        a02.intoArray(c, cOffset + 2 * LANES);
        a03.intoArray(c, cOffset + 3 * LANES);
    }

    private static void twoFourTwoRowsWide(TwoFourMatrix w, int row0, int group0, int group1, MemorySegment panel,
            long base, float[] c, int cOffset) {
        float[] values = w.values();
        byte[] nibbles = w.nibbles();
        int groups = w.groups();
        int b0 = (row0 + 0) * groups;
        int b1 = (row0 + 1) * groups;
        FloatVector a00 = FloatVector.fromArray(SPECIES, c, cOffset + 0 * LANES);
        FloatVector a01 = FloatVector.fromArray(SPECIES, c, cOffset + 1 * LANES);
        FloatVector a02 = FloatVector.fromArray(SPECIES, c, cOffset + 2 * LANES);
        FloatVector a03 = FloatVector.fromArray(SPECIES, c, cOffset + 3 * LANES);
        FloatVector a10 = FloatVector.fromArray(SPECIES, c, cOffset + 4 * LANES);
        FloatVector a11 = FloatVector.fromArray(SPECIES, c, cOffset + 5 * LANES);
        FloatVector a12 = FloatVector.fromArray(SPECIES, c, cOffset + 6 * LANES);
        FloatVector a13 = FloatVector.fromArray(SPECIES, c, cOffset + 7 * LANES);
        for (int g = group0; g < group1; g++) {
            MemorySegment group = panel.asSlice(base + 4L * g * 4L * WIDE, 4L * 4L * WIDE);
            int n = nibbles[b0 + g];
            long x0 = (n & 3) * 4L * WIDE;
            long x1 = ((n >>> 2) & 3) * 4L * WIDE;
            FloatVector v0 = FloatVector.broadcast(SPECIES, values[2 * (b0 + g)]);
            FloatVector v1 = FloatVector.broadcast(SPECIES, values[2 * (b0 + g) + 1]);
            a00 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0, ORDER), a00);
            a01 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0 + 1 * VECTOR_BYTES, ORDER), a01);
            a02 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0 + 2 * VECTOR_BYTES, ORDER), a02);
            a03 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0 + 3 * VECTOR_BYTES, ORDER), a03);
            a00 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1, ORDER), a00);
            a01 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1 + 1 * VECTOR_BYTES, ORDER), a01);
            a02 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1 + 2 * VECTOR_BYTES, ORDER), a02);
            a03 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1 + 3 * VECTOR_BYTES, ORDER), a03);
            n = nibbles[b1 + g];
            x0 = (n & 3) * 4L * WIDE;
            x1 = ((n >>> 2) & 3) * 4L * WIDE;
            v0 = FloatVector.broadcast(SPECIES, values[2 * (b1 + g)]);
            v1 = FloatVector.broadcast(SPECIES, values[2 * (b1 + g) + 1]);
            a10 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0, ORDER), a10);
            a11 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0 + 1 * VECTOR_BYTES, ORDER), a11);
            a12 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0 + 2 * VECTOR_BYTES, ORDER), a12);
            a13 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0 + 3 * VECTOR_BYTES, ORDER), a13);
            a10 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1, ORDER), a10);
            a11 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1 + 1 * VECTOR_BYTES, ORDER), a11);
            a12 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1 + 2 * VECTOR_BYTES, ORDER), a12);
            a13 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1 + 3 * VECTOR_BYTES, ORDER), a13);
        }
        a00.intoArray(c, cOffset + 0 * LANES);
        a01.intoArray(c, cOffset + 1 * LANES);
        a02.intoArray(c, cOffset + 2 * LANES);
        a03.intoArray(c, cOffset + 3 * LANES);
        a10.intoArray(c, cOffset + 4 * LANES);
        a11.intoArray(c, cOffset + 5 * LANES);
        a12.intoArray(c, cOffset + 6 * LANES);
        a13.intoArray(c, cOffset + 7 * LANES);
    }

    private static void csrOneRowWide(CsrRows w, int begin, int end, MemorySegment panel, long base, float[] c,
            int cOffset) {
        int[] columns = w.columns();
        float[] values = w.values();
        FloatVector a0 = FloatVector.fromArray(SPECIES, c, cOffset + 0 * LANES);
        FloatVector a1 = FloatVector.fromArray(SPECIES, c, cOffset + 1 * LANES);
        FloatVector a2 = FloatVector.fromArray(SPECIES, c, cOffset + 2 * LANES);
        FloatVector a3 = FloatVector.fromArray(SPECIES, c, cOffset + 3 * LANES);
        for (int i = begin; i < end; i++) {
            MemorySegment column = panel.asSlice(base + columns[i] * 4L * WIDE, 4L * WIDE);
            FloatVector v = FloatVector.broadcast(SPECIES, values[i]);
            a0 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 0 * VECTOR_BYTES, ORDER), a0);
            a1 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 1 * VECTOR_BYTES, ORDER), a1);
            a2 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 2 * VECTOR_BYTES, ORDER), a2);
            a3 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 3 * VECTOR_BYTES, ORDER), a3);
        }
        a0.intoArray(c, cOffset + 0 * LANES);
        a1.intoArray(c, cOffset + 1 * LANES);
        a2.intoArray(c, cOffset + 2 * LANES);
        a3.intoArray(c, cOffset + 3 * LANES);
    }

    private static void csrTwoRowsWide(CsrRows w, int row0, int count, MemorySegment panel, long base, float[] c,
            int cOffset) {
        int[] offsets = w.rowOffsets();
        int[] columns = w.columns();
        float[] values = w.values();
        int e0 = offsets[row0 + 0];
        int e1 = offsets[row0 + 1];
        FloatVector a00 = FloatVector.fromArray(SPECIES, c, cOffset + 0 * LANES);
        FloatVector a01 = FloatVector.fromArray(SPECIES, c, cOffset + 1 * LANES);
        FloatVector a02 = FloatVector.fromArray(SPECIES, c, cOffset + 2 * LANES);
        FloatVector a03 = FloatVector.fromArray(SPECIES, c, cOffset + 3 * LANES);
        FloatVector a10 = FloatVector.fromArray(SPECIES, c, cOffset + 4 * LANES);
        FloatVector a11 = FloatVector.fromArray(SPECIES, c, cOffset + 5 * LANES);
        FloatVector a12 = FloatVector.fromArray(SPECIES, c, cOffset + 6 * LANES);
        FloatVector a13 = FloatVector.fromArray(SPECIES, c, cOffset + 7 * LANES);
        for (int i = 0; i < count; i++) {
            MemorySegment column = panel.asSlice(base + columns[e0 + i] * 4L * WIDE, 4L * WIDE);
            FloatVector v = FloatVector.broadcast(SPECIES, values[e0 + i]);
            a00 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 0 * VECTOR_BYTES, ORDER), a00);
            a01 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 1 * VECTOR_BYTES, ORDER), a01);
            a02 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 2 * VECTOR_BYTES, ORDER), a02);
            a03 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 3 * VECTOR_BYTES, ORDER), a03);
            column = panel.asSlice(base + columns[e1 + i] * 4L * WIDE, 4L * WIDE);
            v = FloatVector.broadcast(SPECIES, values[e1 + i]);
            a10 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 0 * VECTOR_BYTES, ORDER), a10);
            a11 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 1 * VECTOR_BYTES, ORDER), a11);
            a12 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 2 * VECTOR_BYTES, ORDER), a12);
            a13 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 3 * VECTOR_BYTES, ORDER), a13);
        }
        a00.intoArray(c, cOffset + 0 * LANES);
        a01.intoArray(c, cOffset + 1 * LANES);
        a02.intoArray(c, cOffset + 2 * LANES);
        a03.intoArray(c, cOffset + 3 * LANES);
        a10.intoArray(c, cOffset + 4 * LANES);
        a11.intoArray(c, cOffset + 5 * LANES);
        a12.intoArray(c, cOffset + 6 * LANES);
        a13.intoArray(c, cOffset + 7 * LANES);
    }

    private static void twoFourOneRowNarrow(TwoFourMatrix w, int row0, int group0, int group1, MemorySegment panel,
            long base, float[] c, int cOffset) {
        float[] values = w.values();
        byte[] nibbles = w.nibbles();
        int groups = w.groups();
        int b0 = (row0 + 0) * groups;
        FloatVector a00 = FloatVector.fromArray(SPECIES, c, cOffset + 0 * LANES);
        for (int g = group0; g < group1; g++) {
            MemorySegment group = panel.asSlice(base + 4L * g * 4L * LANES, 4L * 4L * LANES);
            int n = nibbles[b0 + g];
            long x0 = (n & 3) * 4L * LANES;
            long x1 = ((n >>> 2) & 3) * 4L * LANES;
            FloatVector v0 = FloatVector.broadcast(SPECIES, values[2 * (b0 + g)]);
            FloatVector v1 = FloatVector.broadcast(SPECIES, values[2 * (b0 + g) + 1]);
            a00 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0, ORDER), a00);
            a00 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1, ORDER), a00);
        }
        a00.intoArray(c, cOffset + 0 * LANES);
    }

    private static void twoFourTwoRowsNarrow(TwoFourMatrix w, int row0, int group0, int group1, MemorySegment panel,
            long base, float[] c, int cOffset) {
        float[] values = w.values();
        byte[] nibbles = w.nibbles();
        int groups = w.groups();
        int b0 = (row0 + 0) * groups;
        int b1 = (row0 + 1) * groups;
        FloatVector a00 = FloatVector.fromArray(SPECIES, c, cOffset + 0 * LANES);
        FloatVector a10 = FloatVector.fromArray(SPECIES, c, cOffset + 1 * LANES);
        for (int g = group0; g < group1; g++) {
            MemorySegment group = panel.asSlice(base + 4L * g * 4L * LANES, 4L * 4L * LANES);
            int n = nibbles[b0 + g];
            long x0 = (n & 3) * 4L * LANES;
            long x1 = ((n >>> 2) & 3) * 4L * LANES;
            FloatVector v0 = FloatVector.broadcast(SPECIES, values[2 * (b0 + g)]);
            FloatVector v1 = FloatVector.broadcast(SPECIES, values[2 * (b0 + g) + 1]);
            a00 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0, ORDER), a00);
            a00 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1, ORDER), a00);
            n = nibbles[b1 + g];
            x0 = (n & 3) * 4L * LANES;
            x1 = ((n >>> 2) & 3) * 4L * LANES;
            v0 = FloatVector.broadcast(SPECIES, values[2 * (b1 + g)]);
            v1 = FloatVector.broadcast(SPECIES, values[2 * (b1 + g) + 1]);
            a10 = v0.fma(FloatVector.fromMemorySegment(SPECIES, group, x0, ORDER), a10);
            a10 = v1.fma(FloatVector.fromMemorySegment(SPECIES, group, x1, ORDER), a10);
        }
        a00.intoArray(c, cOffset + 0 * LANES);
        a10.intoArray(c, cOffset + 1 * LANES);
    }

    private static void csrOneRowNarrow(CsrRows w, int begin, int end, MemorySegment panel, long base, float[] c,
            int cOffset) {
        int[] columns = w.columns();
        float[] values = w.values();
        FloatVector a0 = FloatVector.fromArray(SPECIES, c, cOffset + 0 * LANES);
        for (int i = begin; i < end; i++) {
            MemorySegment column = panel.asSlice(base + columns[i] * 4L * LANES, 4L * LANES);
            FloatVector v = FloatVector.broadcast(SPECIES, values[i]);
            a0 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 0 * VECTOR_BYTES, ORDER), a0);
        }
        a0.intoArray(c, cOffset + 0 * LANES);
    }

    private static void csrTwoRowsNarrow(CsrRows w, int row0, int count, MemorySegment panel, long base, float[] c,
            int cOffset) {
        int[] offsets = w.rowOffsets();
        int[] columns = w.columns();
        float[] values = w.values();
        int e0 = offsets[row0 + 0];
        int e1 = offsets[row0 + 1];
        FloatVector a00 = FloatVector.fromArray(SPECIES, c, cOffset + 0 * LANES);
        FloatVector a10 = FloatVector.fromArray(SPECIES, c, cOffset + 1 * LANES);
        for (int i = 0; i < count; i++) {
            MemorySegment column = panel.asSlice(base + columns[e0 + i] * 4L * LANES, 4L * LANES);
            FloatVector v = FloatVector.broadcast(SPECIES, values[e0 + i]);
            a00 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 0 * VECTOR_BYTES, ORDER), a00);
            column = panel.asSlice(base + columns[e1 + i] * 4L * LANES, 4L * LANES);
            v = FloatVector.broadcast(SPECIES, values[e1 + i]);
            a10 = v.fma(FloatVector.fromMemorySegment(SPECIES, column, 0 * VECTOR_BYTES, ORDER), a10);
        }
        a00.intoArray(c, cOffset + 0 * LANES);
        a10.intoArray(c, cOffset + 1 * LANES);
    }
}

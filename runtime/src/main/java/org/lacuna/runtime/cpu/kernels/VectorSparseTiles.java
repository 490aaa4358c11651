package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sparse tiles on the Vector API: a tile is two vectors of tokens, and four weight rows are worked at once, so
 * eight independent accumulator chains hide the fused multiply-add latency. Each stored weight value is broadcast
 * and multiplied into both token vectors of its row. Loaded only when {@code jdk.incubator.vector} is present.
 */
final class VectorSparseTiles implements SparseTiles {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final int TILE_TOKENS = 2 * LANES;

    private VectorSparseTiles() {
    }

    static SparseTiles create() {
        return new VectorSparseTiles();
    }

    @Override
    public int tileTokens() {
        return TILE_TOKENS;
    }

    @Override
    public void twoFour(TwoFourMatrix w, int row0, int rows, int group0, int group1, float[] panel, int panelOffset,
                        float[] c, int cOffset, boolean accumulate) {
        if (rows == 4) {
            twoFourFourRows(w, row0, group0, group1, panel, panelOffset, c, cOffset, accumulate);
            return;
        }
        for (int r = 0; r < rows; r++) {
            twoFourOneRow(w, row0 + r, group0, group1, panel, panelOffset, c, cOffset + r * TILE_TOKENS, accumulate);
        }
    }

    private static void twoFourOneRow(TwoFourMatrix w, int row, int group0, int group1, float[] panel, int panelOffset,
                                      float[] c, int cOffset, boolean accumulate) {
        float[] values = w.values();
        byte[] nibbles = w.nibbles();
        int base = row * w.groups();
        FloatVector a0 = start(c, cOffset, accumulate);
        FloatVector a1 = start(c, cOffset + LANES, accumulate);
        for (int g = group0; g < group1; g++) {
            int nibble = nibbles[base + g];
            int x0 = panelOffset + (4 * g + (nibble & 3)) * TILE_TOKENS;
            int x1 = panelOffset + (4 * g + ((nibble >>> 2) & 3)) * TILE_TOKENS;
            FloatVector v0 = FloatVector.broadcast(SPECIES, values[2 * (base + g)]);
            FloatVector v1 = FloatVector.broadcast(SPECIES, values[2 * (base + g) + 1]);
            a0 = v0.fma(FloatVector.fromArray(SPECIES, panel, x0), a0);
            a1 = v0.fma(FloatVector.fromArray(SPECIES, panel, x0 + LANES), a1);
            a0 = v1.fma(FloatVector.fromArray(SPECIES, panel, x1), a0);
            a1 = v1.fma(FloatVector.fromArray(SPECIES, panel, x1 + LANES), a1);
        }
        a0.intoArray(c, cOffset);
        a1.intoArray(c, cOffset + LANES);
    }

    private static void twoFourFourRows(TwoFourMatrix w, int row0, int group0, int group1, float[] panel,
                                        int panelOffset, float[] c, int cOffset, boolean accumulate) {
        float[] values = w.values();
        byte[] nibbles = w.nibbles();
        int groups = w.groups();
        int b0 = row0 * groups;
        int b1 = b0 + groups;
        int b2 = b1 + groups;
        int b3 = b2 + groups;
        FloatVector a00 = start(c, cOffset, accumulate);
        FloatVector a01 = start(c, cOffset + LANES, accumulate);
        FloatVector a10 = start(c, cOffset + TILE_TOKENS, accumulate);
        FloatVector a11 = start(c, cOffset + TILE_TOKENS + LANES, accumulate);
        FloatVector a20 = start(c, cOffset + 2 * TILE_TOKENS, accumulate);
        FloatVector a21 = start(c, cOffset + 2 * TILE_TOKENS + LANES, accumulate);
        FloatVector a30 = start(c, cOffset + 3 * TILE_TOKENS, accumulate);
        FloatVector a31 = start(c, cOffset + 3 * TILE_TOKENS + LANES, accumulate);
        for (int g = group0; g < group1; g++) {
            int groupBase = panelOffset + 4 * g * TILE_TOKENS;
            int n = nibbles[b0 + g];
            int x0 = groupBase + (n & 3) * TILE_TOKENS;
            int x1 = groupBase + ((n >>> 2) & 3) * TILE_TOKENS;
            FloatVector v0 = FloatVector.broadcast(SPECIES, values[2 * (b0 + g)]);
            FloatVector v1 = FloatVector.broadcast(SPECIES, values[2 * (b0 + g) + 1]);
            a00 = v0.fma(FloatVector.fromArray(SPECIES, panel, x0), a00);
            a01 = v0.fma(FloatVector.fromArray(SPECIES, panel, x0 + LANES), a01);
            a00 = v1.fma(FloatVector.fromArray(SPECIES, panel, x1), a00);
            a01 = v1.fma(FloatVector.fromArray(SPECIES, panel, x1 + LANES), a01);

            n = nibbles[b1 + g];
            x0 = groupBase + (n & 3) * TILE_TOKENS;
            x1 = groupBase + ((n >>> 2) & 3) * TILE_TOKENS;
            v0 = FloatVector.broadcast(SPECIES, values[2 * (b1 + g)]);
            v1 = FloatVector.broadcast(SPECIES, values[2 * (b1 + g) + 1]);
            a10 = v0.fma(FloatVector.fromArray(SPECIES, panel, x0), a10);
            a11 = v0.fma(FloatVector.fromArray(SPECIES, panel, x0 + LANES), a11);
            a10 = v1.fma(FloatVector.fromArray(SPECIES, panel, x1), a10);
            a11 = v1.fma(FloatVector.fromArray(SPECIES, panel, x1 + LANES), a11);

            n = nibbles[b2 + g];
            x0 = groupBase + (n & 3) * TILE_TOKENS;
            x1 = groupBase + ((n >>> 2) & 3) * TILE_TOKENS;
            v0 = FloatVector.broadcast(SPECIES, values[2 * (b2 + g)]);
            v1 = FloatVector.broadcast(SPECIES, values[2 * (b2 + g) + 1]);
            a20 = v0.fma(FloatVector.fromArray(SPECIES, panel, x0), a20);
            a21 = v0.fma(FloatVector.fromArray(SPECIES, panel, x0 + LANES), a21);
            a20 = v1.fma(FloatVector.fromArray(SPECIES, panel, x1), a20);
            a21 = v1.fma(FloatVector.fromArray(SPECIES, panel, x1 + LANES), a21);

            n = nibbles[b3 + g];
            x0 = groupBase + (n & 3) * TILE_TOKENS;
            x1 = groupBase + ((n >>> 2) & 3) * TILE_TOKENS;
            v0 = FloatVector.broadcast(SPECIES, values[2 * (b3 + g)]);
            v1 = FloatVector.broadcast(SPECIES, values[2 * (b3 + g) + 1]);
            a30 = v0.fma(FloatVector.fromArray(SPECIES, panel, x0), a30);
            a31 = v0.fma(FloatVector.fromArray(SPECIES, panel, x0 + LANES), a31);
            a30 = v1.fma(FloatVector.fromArray(SPECIES, panel, x1), a30);
            a31 = v1.fma(FloatVector.fromArray(SPECIES, panel, x1 + LANES), a31);
        }
        a00.intoArray(c, cOffset);
        a01.intoArray(c, cOffset + LANES);
        a10.intoArray(c, cOffset + TILE_TOKENS);
        a11.intoArray(c, cOffset + TILE_TOKENS + LANES);
        a20.intoArray(c, cOffset + 2 * TILE_TOKENS);
        a21.intoArray(c, cOffset + 2 * TILE_TOKENS + LANES);
        a30.intoArray(c, cOffset + 3 * TILE_TOKENS);
        a31.intoArray(c, cOffset + 3 * TILE_TOKENS + LANES);
    }

    @Override
    public void csr(CsrRows w, int row0, int rows, float[] panel, int panelOffset, float[] c, int cOffset) {
        int[] offsets = w.rowOffsets();
        if (rows == 4) {
            // The rows advance together through their common length (eight independent chains), then each
            // finishes alone; every row still sums its own entries in stored order.
            int common = Integer.MAX_VALUE;
            for (int r = 0; r < 4; r++) {
                common = Math.min(common, offsets[row0 + r + 1] - offsets[row0 + r]);
            }
            csrFourRows(w, row0, common, panel, panelOffset, c, cOffset);
            for (int r = 0; r < 4; r++) {
                csrOneRow(w, offsets[row0 + r] + common, offsets[row0 + r + 1], panel, panelOffset, c,
                        cOffset + r * TILE_TOKENS, true);
            }
            return;
        }
        for (int r = 0; r < rows; r++) {
            csrOneRow(w, offsets[row0 + r], offsets[row0 + r + 1], panel, panelOffset, c, cOffset + r * TILE_TOKENS,
                    false);
        }
    }

    private static void csrOneRow(CsrRows w, int begin, int end, float[] panel, int panelOffset, float[] c,
                                  int cOffset, boolean accumulate) {
        int[] columns = w.columns();
        float[] values = w.values();
        FloatVector a0 = start(c, cOffset, accumulate);
        FloatVector a1 = start(c, cOffset + LANES, accumulate);
        for (int i = begin; i < end; i++) {
            int x = panelOffset + columns[i] * TILE_TOKENS;
            FloatVector v = FloatVector.broadcast(SPECIES, values[i]);
            a0 = v.fma(FloatVector.fromArray(SPECIES, panel, x), a0);
            a1 = v.fma(FloatVector.fromArray(SPECIES, panel, x + LANES), a1);
        }
        a0.intoArray(c, cOffset);
        a1.intoArray(c, cOffset + LANES);
    }

    private static void csrFourRows(CsrRows w, int row0, int count, float[] panel, int panelOffset, float[] c,
                                    int cOffset) {
        int[] offsets = w.rowOffsets();
        int[] columns = w.columns();
        float[] values = w.values();
        int e0 = offsets[row0];
        int e1 = offsets[row0 + 1];
        int e2 = offsets[row0 + 2];
        int e3 = offsets[row0 + 3];
        FloatVector a00 = FloatVector.zero(SPECIES);
        FloatVector a01 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a20 = a00;
        FloatVector a21 = a00;
        FloatVector a30 = a00;
        FloatVector a31 = a00;
        for (int i = 0; i < count; i++) {
            int x = panelOffset + columns[e0 + i] * TILE_TOKENS;
            FloatVector v = FloatVector.broadcast(SPECIES, values[e0 + i]);
            a00 = v.fma(FloatVector.fromArray(SPECIES, panel, x), a00);
            a01 = v.fma(FloatVector.fromArray(SPECIES, panel, x + LANES), a01);
            x = panelOffset + columns[e1 + i] * TILE_TOKENS;
            v = FloatVector.broadcast(SPECIES, values[e1 + i]);
            a10 = v.fma(FloatVector.fromArray(SPECIES, panel, x), a10);
            a11 = v.fma(FloatVector.fromArray(SPECIES, panel, x + LANES), a11);
            x = panelOffset + columns[e2 + i] * TILE_TOKENS;
            v = FloatVector.broadcast(SPECIES, values[e2 + i]);
            a20 = v.fma(FloatVector.fromArray(SPECIES, panel, x), a20);
            a21 = v.fma(FloatVector.fromArray(SPECIES, panel, x + LANES), a21);
            x = panelOffset + columns[e3 + i] * TILE_TOKENS;
            v = FloatVector.broadcast(SPECIES, values[e3 + i]);
            a30 = v.fma(FloatVector.fromArray(SPECIES, panel, x), a30);
            a31 = v.fma(FloatVector.fromArray(SPECIES, panel, x + LANES), a31);
        }
        a00.intoArray(c, cOffset);
        a01.intoArray(c, cOffset + LANES);
        a10.intoArray(c, cOffset + TILE_TOKENS);
        a11.intoArray(c, cOffset + TILE_TOKENS + LANES);
        a20.intoArray(c, cOffset + 2 * TILE_TOKENS);
        a21.intoArray(c, cOffset + 2 * TILE_TOKENS + LANES);
        a30.intoArray(c, cOffset + 3 * TILE_TOKENS);
        a31.intoArray(c, cOffset + 3 * TILE_TOKENS + LANES);
    }

    private static FloatVector start(float[] c, int offset, boolean accumulate) {
        return accumulate ? FloatVector.fromArray(SPECIES, c, offset) : FloatVector.zero(SPECIES);
    }
}

package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;

/**
 * Packing x into token panels and reading results back out, on the Vector API and the scalar path, against the
 * layout written out element by element: ragged token counts (a part-filled last tile), {@code in} off every multiple
 * of the pack's column block, zero-padded columns, every storage type, and panel memory poisoned with NaN first so
 * that a float left unwritten fails (and results into rows of y wider than the tile, leaving the rest untouched).
 */
class SparseTilesTest {
    private static final SparseTiles[] PATHS = {SparseTiles.select(true), SparseTiles.select(false)};

    @Test
    void packedPanelsHoldXTransposedWithZerosPastTheLastTokenAndColumn() {
        SplittableRandom random = new SplittableRandom(41);
        int[][] shapes = {{1, 1}, {7, 5}, {16, 64}, {17, 65}, {129, 150}, {300, 130}, {128, 3}, {65, 200}};
        for (int[] shape : shapes) {
            int tokens = shape[0];
            int in = shape[1];
            int paddedIn = 4 * ((in + 3) / 4);
            for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                float[] x = new float[tokens * in];
                for (int i = 0; i < x.length; i++) {
                    x[i] = HalfFloats.roundTo(dtype, (float) random.nextDouble(-4, 4));
                }
                for (SparseTiles path : PATHS) {
                    for (int tile : new int[] {path.tileTokens(tokens), 16, 128}) {
                        check(path, x, tokens, in, paddedIn, dtype, tile);
                    }
                }
            }
        }
    }

    private static void check(SparseTiles path, float[] x, int tokens, int in, int paddedIn, DType dtype, int tile) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment source = arena.allocate((long) x.length * dtype.byteSize() + 8, 64);
            long byteOffset = 8; // x need not start at the buffer's start
            for (int i = 0; i < x.length; i++) {
                if (dtype == DType.F32) {
                    source.set(ValueLayout.JAVA_FLOAT_UNALIGNED, byteOffset + 4L * i, x[i]);
                } else {
                    short bits = dtype == DType.F16 ? HalfFloats.toF16(x[i]) : HalfFloats.toBf16(x[i]);
                    source.set(ValueLayout.JAVA_SHORT_UNALIGNED, byteOffset + 2L * i, bits);
                }
            }
            int tiles = TokenPanels.tiles(tokens, tile);
            MemorySegment panels = arena.allocate(4 * TokenPanels.size(tokens, paddedIn, tile), 64);
            for (long i = 0; i < panels.byteSize() / 4; i++) {
                panels.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.NaN);
            }
            for (int t = 0; t < tiles; t++) {
                path.pack(source, byteOffset, dtype, tokens, in, paddedIn, tile, t, panels);
            }
            String what = path.getClass().getSimpleName() + " " + dtype + " tokens=" + tokens + " in=" + in
                    + " tile=" + tile;
            for (int t = 0; t < tiles; t++) {
                for (int k = 0; k < paddedIn; k++) {
                    for (int j = 0; j < tile; j++) {
                        int token = t * tile + j;
                        float want = token < tokens && k < in ? x[token * in + k] : 0f;
                        float got = panels.getAtIndex(ValueLayout.JAVA_FLOAT, TokenPanels.offset(t, paddedIn, tile)
                                + (long) k * tile + j);
                        assertEquals(want, got, 0f, what + " at token " + token + " column " + k);
                    }
                }
            }
        }
    }

    @Test
    void unpackedResultsAreTokenMajor() {
        SplittableRandom random = new SplittableRandom(43);
        for (SparseTiles path : PATHS) {
            for (int tile : new int[] {16, 128, 24}) {
                for (int rows : new int[] {1, 15, 16, 33, 128}) {
                    for (int tokens : new int[] {1, Math.min(17, tile), tile - 1, tile}) {
                        // The last tokens of the tile (a strip starting past its first token), or the whole tile.
                        int cOffset = tokens < tile ? tile - tokens : 0;
                        float[] c = new float[rows * tile];
                        for (int i = 0; i < c.length; i++) {
                            c[i] = (float) random.nextDouble();
                        }
                        // Rows of y wider than the tile's rows, starting off the segment's start; NaN elsewhere.
                        int ld = rows + 3;
                        float[] into = new float[tokens * ld + 2];
                        java.util.Arrays.fill(into, Float.NaN);
                        MemorySegment segment = MemorySegment.ofArray(into);
                        path.unpack(c, cOffset, tile, rows, tokens, segment, 8, ld);
                        for (int t = 0; t < tokens; t++) {
                            for (int r = 0; r < ld; r++) {
                                float want = r < rows ? c[cOffset + r * tile + t] : Float.NaN;
                                assertEquals(want, into[2 + t * ld + r], 0f, path.getClass().getSimpleName()
                                        + " tile=" + tile + " rows=" + rows + " from " + cOffset + " token " + t
                                        + " column " + r);
                            }
                        }
                    }
                }
            }
        }
    }
}

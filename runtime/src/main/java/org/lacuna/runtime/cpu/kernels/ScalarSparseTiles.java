package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.data.DType;

/**
 * The plain-Java sparse tiles, for JVMs without {@code jdk.incubator.vector}: the same order of fused multiply-adds
 * as {@link VectorSparseTiles}, one token at a time.
 */
final class ScalarSparseTiles implements SparseTiles {
    static final ScalarSparseTiles INSTANCE = new ScalarSparseTiles();

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;
    /** Wide enough for the token loop to run a while per weight value; any width gives the same results. */
    private static final int TILE_TOKENS = 16;

    private ScalarSparseTiles() {
    }

    @Override
    public int tileTokens(int tokens) {
        return Math.min(TILE_TOKENS, tokens);
    }

    @Override
    public void pack(MemorySegment x, long byteOffset, DType dtype, int tokens, int in, int paddedIn, int tileTokens,
                     int tile, MemorySegment panels) {
        TokenPanels.pack(x, byteOffset, dtype, tokens, in, paddedIn, tileTokens, tile, panels);
    }

    @Override
    public void unpack(float[] c, int cOffset, int tileTokens, int rows, int tokens, MemorySegment into,
                       long byteOffset, long ld) {
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                into.set(ValueLayout.JAVA_FLOAT_UNALIGNED, byteOffset + 4 * (t * ld + r), c[cOffset + r * tileTokens + t]);
            }
        }
    }

    @Override
    public void twoFour(TwoFourMatrix w, int row0, int rows, int block, MemorySegment panel, long panelOffset,
                        int tile, float[] c, int cOffset) {
        float[] values = w.values();
        byte[] nibbles = w.nibbles();
        int count = w.blockGroups(block);
        int group0 = block * TwoFourMatrix.BLOCK_GROUPS;
        for (int r = 0; r < rows; r++) {
            int acc = cOffset + r * tile;
            int stored = w.blockRow(block, row0 + r);
            for (int j = 0; j < count; j++) {
                int nibble = nibbles[stored + j];
                float v0 = values[2 * (stored + j)];
                float v1 = values[2 * (stored + j) + 1];
                long x0 = panelOffset + (long) (4 * (group0 + j) + (nibble & 3)) * tile;
                long x1 = panelOffset + (long) (4 * (group0 + j) + ((nibble >>> 2) & 3)) * tile;
                for (int t = 0; t < tile; t++) {
                    float first = Math.fma(v0, panel.getAtIndex(FLOAT, x0 + t), c[acc + t]);
                    c[acc + t] = Math.fma(v1, panel.getAtIndex(FLOAT, x1 + t), first);
                }
            }
        }
    }

    @Override
    public void csr(CsrRows w, int row0, int rows, MemorySegment panel, long panelOffset, int tile, float[] c,
                    int cOffset) {
        int[] offsets = w.rowOffsets();
        int[] columns = w.columns();
        float[] values = w.values();
        for (int r = 0; r < rows; r++) {
            int acc = cOffset + r * tile;
            for (int i = offsets[row0 + r]; i < offsets[row0 + r + 1]; i++) {
                float v = values[i];
                long x = panelOffset + (long) columns[i] * tile;
                for (int t = 0; t < tile; t++) {
                    c[acc + t] = Math.fma(v, panel.getAtIndex(FLOAT, x + t), c[acc + t]);
                }
            }
        }
    }
}

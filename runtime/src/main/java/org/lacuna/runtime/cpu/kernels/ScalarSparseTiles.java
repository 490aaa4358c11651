package org.lacuna.runtime.cpu.kernels;

/**
 * The plain-Java sparse tiles, for JVMs without {@code jdk.incubator.vector}: the same loops and the same order of
 * fused multiply-adds as {@link VectorSparseTiles}, one token at a time.
 */
final class ScalarSparseTiles implements SparseTiles {
    static final ScalarSparseTiles INSTANCE = new ScalarSparseTiles();

    /** Wide enough for the JIT to keep the token loop busy; any width gives the same results. */
    private static final int TILE_TOKENS = 16;

    private ScalarSparseTiles() {
    }

    @Override
    public int tileTokens() {
        return TILE_TOKENS;
    }

    @Override
    public void twoFour(TwoFourMatrix w, int row0, int rows, int group0, int group1, float[] panel, int panelOffset,
                        float[] c, int cOffset, boolean accumulate) {
        float[] values = w.values();
        byte[] nibbles = w.nibbles();
        int groups = w.groups();
        int tile = TILE_TOKENS;
        for (int r = 0; r < rows; r++) {
            int acc = cOffset + r * tile;
            if (!accumulate) {
                java.util.Arrays.fill(c, acc, acc + tile, 0f);
            }
            int row = row0 + r;
            for (int g = group0; g < group1; g++) {
                int nibble = nibbles[row * groups + g];
                float v0 = values[2 * (row * groups + g)];
                float v1 = values[2 * (row * groups + g) + 1];
                int x0 = panelOffset + (4 * g + (nibble & 3)) * tile;
                int x1 = panelOffset + (4 * g + ((nibble >>> 2) & 3)) * tile;
                for (int t = 0; t < tile; t++) {
                    c[acc + t] = Math.fma(v1, panel[x1 + t], Math.fma(v0, panel[x0 + t], c[acc + t]));
                }
            }
        }
    }

    @Override
    public void csr(CsrRows w, int row0, int rows, float[] panel, int panelOffset, float[] c, int cOffset) {
        int[] offsets = w.rowOffsets();
        int[] columns = w.columns();
        float[] values = w.values();
        int tile = TILE_TOKENS;
        for (int r = 0; r < rows; r++) {
            int acc = cOffset + r * tile;
            java.util.Arrays.fill(c, acc, acc + tile, 0f);
            for (int i = offsets[row0 + r]; i < offsets[row0 + r + 1]; i++) {
                float v = values[i];
                int x = panelOffset + columns[i] * tile;
                for (int t = 0; t < tile; t++) {
                    c[acc + t] = Math.fma(v, panel[x + t], c[acc + t]);
                }
            }
        }
    }
}

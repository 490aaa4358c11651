package org.lacuna.runtime.cpu.kernels;

/**
 * The inner loops of the sparse linear layers: one tile of tokens against a few weight rows, over x packed
 * transposed into panels {@code panel[column · T + t]} of {@link #tileTokens() T} tokens, so that each stored weight
 * value is broadcast against T tokens at once. Results go to {@code c[row · T + t]}.
 *
 * <p>Every implementation sums each output element in one fixed order, the weight row's stored order (2:4: group by
 * group, position i0 then i1; CSR: entry by entry), with one fused multiply-add per product. So the scalar and the
 * Vector API kernels give the same bits, and no split of rows, tokens or groups over threads changes a result.
 */
public interface SparseTiles {
    /** Weight rows one call takes at most. */
    int MAX_ROWS = 4;

    /** Tokens per tile: the width of the panels the kernel reads and of each row of c. */
    int tileTokens();

    /**
     * {@code c[r][t] (+)= Σ_{group0 ≤ g < group1} kept products of row row0 + r} for {@code r < rows ≤ MAX_ROWS}.
     *
     * @param accumulate add to c (a later block of groups) instead of starting from zero
     */
    void twoFour(TwoFourMatrix w, int row0, int rows, int group0, int group1, float[] panel, int panelOffset,
                 float[] c, int cOffset, boolean accumulate);

    /** {@code c[r][t] = Σ} over the stored entries of row {@code row0 + r}, for {@code r < rows ≤ MAX_ROWS}. */
    void csr(CsrRows w, int row0, int rows, float[] panel, int panelOffset, float[] c, int cOffset);

    /**
     * The Vector API kernels where {@code vectorApi} is true (the caller has checked the module is present), else the
     * scalar ones. Only this method names the Vector API class, so a JVM without the module never loads it.
     */
    static SparseTiles select(boolean vectorApi) {
        return vectorApi ? VectorSparseTiles.create() : ScalarSparseTiles.INSTANCE;
    }
}

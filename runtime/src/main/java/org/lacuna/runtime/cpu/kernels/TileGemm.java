package org.lacuna.runtime.cpu.kernels;

/**
 * The tile GEMM a fused sparse convolution runs on rows it has just gathered: {@code C[rows[i], :] += A[i, :] · B},
 * A [m×k] row-major at {@code lda}, B [k×n] row-major from {@code bOffset} at {@code ldb}, and row i of the product
 * added into C from element {@code rows[i]} (the accumulator row of the output the gathered row belongs to; the m
 * rows must be distinct). Each element of C becomes {@code fma(a[i,k-1], b[k-1,j], … fma(a[i,0], b[0,j], c) …)}: one
 * fused multiply-add per p in p order, from C's own value, so its bits depend on its row of A, its column of B and
 * its starting value alone, never on m, on where the tile starts or on which register block computed it. A caller
 * may cut its rows into tiles any way it likes and get the same bits.
 */
public interface TileGemm {
    void accumulate(int m, int n, int k, float[] a, int lda, float[] b, int bOffset, int ldb, float[] c, int[] rows);

    /** The portable kernel, the same chain of {@link Math#fma} per element: the path without the Vector API. */
    TileGemm SCALAR = (m, n, k, a, lda, b, bOffset, ldb, c, rows) -> {
        for (int i = 0; i < m; i++) {
            int ai = i * lda;
            int ci = rows[i];
            for (int j = 0; j < n; j++) {
                float acc = c[ci + j];
                for (int p = 0; p < k; p++) {
                    acc = Math.fma(a[ai + p], b[bOffset + p * ldb + j], acc);
                }
                c[ci + j] = acc;
            }
        }
    };
}

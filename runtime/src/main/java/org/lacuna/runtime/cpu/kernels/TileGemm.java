package org.lacuna.runtime.cpu.kernels;

/**
 * The tile GEMM a fused kernel runs on data it has just gathered: {@code C[m×n] = A[m×k] · B[k×n]}, row-major,
 * overwriting C. Each element of C is summed over k in order, so its value depends on its row of A and its column of
 * B alone, never on m or on where the tile starts: a caller may cut its rows into tiles any way it likes and get the
 * same bits.
 */
public interface TileGemm {
    void multiply(int m, int n, int k, float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb, float[] c,
                  int cOffset, int ldc);

    /** {@link Sgemm#multiplyScalar}, the shared portable kernel: the path without the Vector API. */
    TileGemm SCALAR = (m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc) ->
            Sgemm.multiplyScalar(m, n, k, a, aOffset, lda, b, bOffset, ldb, false, c, cOffset, ldc, false);
}

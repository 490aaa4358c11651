package org.lacuna.runtime.cpu.kernels;

/**
 * Single-threaded fp32 GEMM on row-major Java arrays, the building block that the CPU ops split over their threads:
 * {@code C[m×n] (+)= A[m×k] · op(B)} where {@code op(B)} is {@code B[k×n]} or, transposed, {@code B[n×k]ᵀ}. fp32
 * accumulation; the order in which one element of C is summed depends on k alone, never on m, n, the offsets or how
 * the caller split the work, so results do not depend on the thread count.
 */
public final class Sgemm {
    private Sgemm() {
    }

    /**
     * @param accumulate add to C instead of overwriting it
     */
    public static void multiply(int m, int n, int k, float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                                boolean transposeB, float[] c, int cOffset, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float acc = accumulate ? c[cOffset + i * ldc + j] : 0f;
                for (int p = 0; p < k; p++) {
                    float bv = transposeB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j];
                    acc += a[aOffset + i * lda + p] * bv;
                }
                c[cOffset + i * ldc + j] = acc;
            }
        }
    }
}

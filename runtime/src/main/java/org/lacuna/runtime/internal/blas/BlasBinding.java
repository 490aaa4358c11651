package org.lacuna.runtime.internal.blas;

import org.lacuna.runtime.data.DType;

/**
 * cuBLAS behind whichever binding serves it (JCuda's JCublas2 on libcublas.so.12, java.lang.foreign on
 * libcublas.so.13). One instance owns one cuBLAS handle, created in the current CUDA context.
 * Device pointers are raw addresses ({@code CUdeviceptr} values).
 */
public interface BlasBinding extends AutoCloseable {
    String description();

    /** cuBLAS's version as reported by cublasGetVersion (e.g. 120902). */
    int version();

    /**
     * {@code cublasGemmEx} in cuBLAS's column-major convention: C[m×n] = alpha·op(A)·op(B) + beta·C, with fp32
     * compute (CUBLAS_COMPUTE_32F) for F16, BF16 and F32 inputs. Runs on {@code stream} (a CUstream address, 0 for
     * the default stream).
     */
    void gemmEx(long stream, boolean transA, boolean transB, int m, int n, int k, float alpha,
                long a, DType aType, int lda, long b, DType bType, int ldb,
                float beta, long c, DType cType, int ldc);

    @Override
    void close();
}

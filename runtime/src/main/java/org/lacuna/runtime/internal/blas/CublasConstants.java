package org.lacuna.runtime.internal.blas;

/** Enum values from cublas_api.h and library_types.h that the gemm path passes to cuBLAS. */
final class CublasConstants {
    static final int CUBLAS_OP_N = 0;
    static final int CUBLAS_OP_T = 1;
    /** cublasComputeType_t: fp32 accumulation and scalars, whatever the input types. */
    static final int CUBLAS_COMPUTE_32F = 68;
    /** cublasGemmAlgo_t: let cuBLAS pick (tensor cores are used when the types allow). */
    static final int CUBLAS_GEMM_DEFAULT = -1;
    /** libraryPropertyType, for cublasGetProperty. */
    static final int MAJOR_VERSION = 0;
    static final int MINOR_VERSION = 1;
    static final int PATCH_LEVEL = 2;

    private CublasConstants() {
    }

    static int operation(boolean transpose) {
        return transpose ? CUBLAS_OP_T : CUBLAS_OP_N;
    }
}

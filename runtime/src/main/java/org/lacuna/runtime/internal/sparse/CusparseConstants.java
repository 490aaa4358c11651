package org.lacuna.runtime.internal.sparse;

/** Enum values from cusparse.h and library_types.h that the SpMM path passes to cuSPARSE. */
final class CusparseConstants {
    static final int CUSPARSE_OPERATION_NON_TRANSPOSE = 0;
    static final int CUSPARSE_INDEX_32I = 2;
    static final int CUSPARSE_INDEX_BASE_ZERO = 0;
    static final int CUSPARSE_ORDER_COL = 1;
    static final int CUSPARSE_ORDER_ROW = 2;
    static final int CUSPARSE_SPMM_ALG_DEFAULT = 0;
    /** cudaDataType CUDA_R_32F as the compute type: fp32 accumulation and fp32 alpha/beta. */
    static final int COMPUTE_32F = 0;
    /** libraryPropertyType, for cusparseGetProperty. */
    static final int MAJOR_VERSION = 0;
    static final int MINOR_VERSION = 1;
    static final int PATCH_LEVEL = 2;

    private CusparseConstants() {
    }
}

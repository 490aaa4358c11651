package org.lacuna.runtime.internal.sparse;

import org.lacuna.runtime.data.DType;

/**
 * cuSPARSE's generic API behind whichever binding serves it (JCuda's JCusparse on libcusparse.so.12,
 * java.lang.foreign on libcusparse.so.13). One instance owns one cuSPARSE handle in the current CUDA context.
 */
public interface SparseBinding extends AutoCloseable {
    String description();

    int version();

    /**
     * C[m×n] = alpha·A·B + beta·C where A[m×k] is CSR (int32 row offsets [m+1] and column indices [nnz], values
     * of {@code valueType}), B[k×n] and C[m×n] are dense row-major. fp32 compute. Workspace comes from
     * {@code scratch} and is only used during the call.
     */
    default void spmmCsr(long stream, int m, int n, int k, long nnz,
                         long rowOffsets, long columnIndices, long values, DType valueType,
                         long b, DType bType, long c, DType cType, float alpha, float beta, DeviceScratch scratch) {
        spmmCsr(stream, m, n, k, nnz, rowOffsets, columnIndices, values, valueType, b, bType, c, cType,
                DenseOrder.ROW_MAJOR, alpha, beta, scratch);
    }

    /**
     * As above with B and C stored in {@code order}, with packed leading dimensions. Column-major lets
     * Y[tokens×out] = X·Wᵀ run without transposes: B = Xᵀ column-major is X row-major, C = Yᵀ column-major is Y.
     */
    void spmmCsr(long stream, int m, int n, int k, long nnz,
                 long rowOffsets, long columnIndices, long values, DType valueType,
                 long b, DType bType, long c, DType cType, DenseOrder order, float alpha, float beta,
                 DeviceScratch scratch);

    /** Storage order of the dense operands B and C. */
    enum DenseOrder {
        ROW_MAJOR, COLUMN_MAJOR;

        /** cusparseOrder_t: CUSPARSE_ORDER_COL = 1, CUSPARSE_ORDER_ROW = 2. */
        int cusparseOrder() {
            return this == ROW_MAJOR ? CusparseConstants.CUSPARSE_ORDER_ROW : CusparseConstants.CUSPARSE_ORDER_COL;
        }

        long leadingDimension(int rows, int cols) {
            return this == ROW_MAJOR ? cols : rows;
        }
    }

    @Override
    void close();

    /** Hands out device memory that stays valid until the binding call that asked for it returns. */
    @FunctionalInterface
    interface DeviceScratch {
        long acquire(long bytes);
    }
}

package org.lacuna.runtime.internal.sparse;

import org.lacuna.runtime.DType;

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
    void spmmCsr(long stream, int m, int n, int k, long nnz,
                 long rowOffsets, long columnIndices, long values, DType valueType,
                 long b, DType bType, long c, DType cType, float alpha, float beta, DeviceScratch scratch);

    @Override
    void close();

    /** Hands out device memory that stays valid until the binding call that asked for it returns. */
    @FunctionalInterface
    interface DeviceScratch {
        long acquire(long bytes);
    }
}

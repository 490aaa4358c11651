package org.lacuna.runtime.internal.sparse;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.internal.nativelib.LibraryHandle;

/**
 * A cuSPARSE handle through either binding: every call checks that the handle is open and that its arguments are
 * valid, and does nothing for an empty output, before the binding runs it.
 */
abstract class SparseHandle extends LibraryHandle implements SparseBinding {
    SparseHandle(String description, int version) {
        super("cuSPARSE handle", description, version);
    }

    @Override
    public final synchronized void spmmCsr(long stream, int m, int n, int k, long nnz,
                                           long rowOffsets, long columnIndices, long values, DType valueType,
                                           long b, DType bType, long c, DType cType, DenseOrder order,
                                           float alpha, float beta, DeviceScratch scratch) {
        ensureOpen("cusparseSpMM");
        SpmmArguments types = SpmmArguments.check(m, n, k, nnz, rowOffsets, columnIndices, values, valueType,
                b, bType, c, cType, scratch);
        if (m == 0 || n == 0) {
            return;
        }
        runSpmmCsr(stream, m, n, k, nnz, rowOffsets, columnIndices, values, b, c, order, alpha, beta, scratch, types);
    }

    /** {@code cusparseSpMM} on CSR with checked arguments and a non-empty output; runs under the handle's lock. */
    protected abstract void runSpmmCsr(long stream, int m, int n, int k, long nnz,
                                       long rowOffsets, long columnIndices, long values, long b, long c,
                                       DenseOrder order, float alpha, float beta, DeviceScratch scratch,
                                       SpmmArguments types);
}

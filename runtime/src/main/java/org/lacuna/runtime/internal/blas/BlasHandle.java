package org.lacuna.runtime.internal.blas;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.internal.nativelib.LibraryHandle;

/**
 * A cuBLAS handle through either binding: every call checks that the handle is open and that its arguments are
 * valid, and does nothing for an empty output, before the binding runs it.
 */
abstract class BlasHandle extends LibraryHandle implements BlasBinding {
    BlasHandle(String description, int version) {
        super("cuBLAS handle", description, version);
    }

    @Override
    public final synchronized void gemmEx(long stream, boolean transA, boolean transB, int m, int n, int k,
                                          float alpha, long a, DType aType, int lda, long b, DType bType, int ldb,
                                          float beta, long c, DType cType, int ldc) {
        ensureOpen("cublasGemmEx");
        GemmArguments types = GemmArguments.check(transA, transB, m, n, k, a, aType, lda, b, bType, ldb, c, cType, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        runGemmEx(stream, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, types);
    }

    /** {@code cublasGemmEx} on checked arguments and a non-empty output; runs under the handle's lock. */
    protected abstract void runGemmEx(long stream, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                      long a, int lda, long b, int ldb, float beta, long c, int ldc,
                                      GemmArguments types);
}

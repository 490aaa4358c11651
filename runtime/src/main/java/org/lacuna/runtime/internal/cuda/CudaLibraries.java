package org.lacuna.runtime.internal.cuda;

import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.internal.blas.BlasBinding;
import org.lacuna.runtime.internal.blas.BlasBindings;
import org.lacuna.runtime.internal.sparse.SparseBinding;
import org.lacuna.runtime.internal.sparse.SparseBindings;
import org.lacuna.runtime.lifetime.ClosedFlag;

/**
 * The cuBLAS and cuSPARSE handles of one backend, created on first use in its context (a backend that never runs a
 * dense or CSR layer never loads those libraries) and destroyed with it.
 */
final class CudaLibraries implements AutoCloseable {
    private final CudaContext context;
    private BlasBinding blas;
    private SparseBinding sparse;
    private final ClosedFlag closed = new ClosedFlag();

    CudaLibraries(CudaContext context) {
        this.context = context;
    }

    /** The cuBLAS handle, with this backend's context made current for the call that follows. */
    synchronized BlasBinding blas() {
        checkOpen();
        context.makeCurrent();
        if (blas == null) {
            blas = BlasBindings.open();
        }
        return blas;
    }

    /** The cuSPARSE handle, with this backend's context made current for the call that follows. */
    synchronized SparseBinding sparse() {
        checkOpen();
        context.makeCurrent();
        if (sparse == null) {
            sparse = SparseBindings.open();
        }
        return sparse;
    }

    private void checkOpen() {
        if (closed.isClosed()) {
            throw new ResourceClosedException("CudaLibraries", "CUDA library handles");
        }
    }

    @Override
    public synchronized void close() {
        if (!closed.markClosed()) {
            return;
        }
        context.closeAllCurrent("CudaLibraries", blas, sparse);
    }
}

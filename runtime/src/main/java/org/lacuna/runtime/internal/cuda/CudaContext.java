package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;

/**
 * The device's primary context (the one the CUDA runtime, cuBLAS and PyTorch share), retained for the backend's
 * lifetime. Every JVM thread that calls into CUDA must make it current first: the driver binds contexts per thread.
 */
final class CudaContext implements AutoCloseable {
    private final CUdevice device;
    private final CUcontext context = new CUcontext();
    private final ClosedFlag closed = new ClosedFlag();

    CudaContext(CUdevice device) {
        this.device = device;
        CudaCalls.check("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain(context, device));
        makeCurrent();
    }

    void makeCurrent() {
        CudaCalls.check("cuCtxSetCurrent", cuCtxSetCurrent(context));
    }

    /**
     * Makes this context current on the calling thread, then closes each of {@code resources} in the given order,
     * every one even when some fail ({@link Closer#closeAll}): the close of whatever frees memory or handles in it.
     * Where the context cannot be made current, each is still closed (what lives on the host is freed; device frees
     * may fail too) and that failure is thrown with theirs suppressed.
     */
    void closeAllCurrent(String owner, AutoCloseable... resources) {
        try {
            makeCurrent();
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, resources);
        }
        Closer.closeAll(owner, resources);
    }

    @Override
    public void close() {
        if (closed.markClosed()) {
            cuDevicePrimaryCtxRelease(device);
        }
    }
}

package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

import org.lacuna.runtime.memory.RawAllocator;

/** cuMemAlloc/cuMemFree in the backend's context, for the caching pool. */
final class CudaAllocator implements RawAllocator {
    private final CudaContext context;

    CudaAllocator(CudaContext context) {
        this.context = context;
    }

    @Override
    public long allocate(long bytes) {
        context.makeCurrent();
        DevicePointer pointer = new DevicePointer();
        CudaCalls.checkAllocation("cuMemAlloc", cuMemAlloc(pointer, bytes), bytes);
        return pointer.address();
    }

    @Override
    public void free(long address, long bytes) {
        context.makeCurrent();
        // The pool frees cached blocks (on trim, out-of-memory retry or close) whose last users were only ordered on
        // the stream: wait for every queued kernel before the memory goes back to the driver.
        CudaCalls.check("cuCtxSynchronize", cuCtxSynchronize());
        CudaCalls.check("cuMemFree", cuMemFree(DevicePointer.at(address)));
    }
}

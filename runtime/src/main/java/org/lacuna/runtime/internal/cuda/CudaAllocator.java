package org.lacuna.runtime.internal.cuda;

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
        CudaCalls.check("cuMemFree", cuMemFree(DevicePointer.at(address)));
    }
}

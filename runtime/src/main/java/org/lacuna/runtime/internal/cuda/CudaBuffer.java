package org.lacuna.runtime.internal.cuda;

import jcuda.driver.CUdeviceptr;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.memory.CachingPool;

/** Device memory from the backend's caching pool; closing gives it back to the pool. */
final class CudaBuffer implements DeviceBuffer {
    private final CachingPool pool;
    private final CachingPool.Block block;
    private final long byteSize;
    private final ClosedFlag closed = new ClosedFlag();

    CudaBuffer(CachingPool pool, CachingPool.Block block, long byteSize) {
        this.pool = pool;
        this.block = block;
        this.byteSize = byteSize;
    }

    long address(String call) {
        if (closed.isClosed()) {
            throw new ResourceClosedException(call, "CUDA buffer");
        }
        return block.address();
    }

    CUdeviceptr pointer(String call, long byteOffset) {
        return DevicePointer.at(address(call) + byteOffset);
    }

    @Override
    public long byteSize() {
        return byteSize;
    }

    @Override
    public String backendName() {
        return CudaBackendProvider.NAME;
    }

    @Override
    public boolean isClosed() {
        return closed.isClosed();
    }

    @Override
    public void close() {
        if (closed.markClosed()) {
            pool.release(block);
        }
    }
}

package org.lacuna.runtime.internal.cuda;

import java.util.concurrent.atomic.AtomicBoolean;
import jcuda.driver.CUdeviceptr;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.memory.CachingPool;

/** Device memory from the backend's caching pool; closing gives it back to the pool. */
final class CudaBuffer implements DeviceBuffer {
    private final CachingPool pool;
    private final CachingPool.Block block;
    private final long byteSize;
    private final AtomicBoolean closed = new AtomicBoolean();

    CudaBuffer(CachingPool pool, CachingPool.Block block, long byteSize) {
        this.pool = pool;
        this.block = block;
        this.byteSize = byteSize;
    }

    long address(String call) {
        if (closed.get()) {
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
        return closed.get();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            pool.release(block);
        }
    }
}

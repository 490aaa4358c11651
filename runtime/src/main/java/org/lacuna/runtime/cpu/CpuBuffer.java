package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.error.ResourceClosedException;

/** Off-heap host memory of the CPU backend: a block of its {@link CpuSegmentPool}, given back on close. */
final class CpuBuffer implements DeviceBuffer {
    static final int ALIGNMENT = 64;

    private final String backendName;
    private final CpuSegmentPool pool;
    private final CpuSegmentPool.Block block;
    private final CpuMemoryAccounting accounting;
    private final AtomicBoolean closed = new AtomicBoolean();

    CpuBuffer(long bytes, String backendName, CpuSegmentPool pool, CpuMemoryAccounting accounting) {
        this.backendName = backendName;
        this.pool = pool;
        this.block = pool.acquire(bytes);
        this.accounting = accounting;
        accounting.track(this);
    }

    MemorySegment segment(String call) {
        if (closed.get()) {
            throw new ResourceClosedException(call, "CPU buffer");
        }
        return block.memory();
    }

    @Override
    public long byteSize() {
        return block.memory().byteSize();
    }

    @Override
    public String backendName() {
        return backendName;
    }

    @Override
    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            accounting.untrack(this);
            pool.release(block);
        }
    }
}

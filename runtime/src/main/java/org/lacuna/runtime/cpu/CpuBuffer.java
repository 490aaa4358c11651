package org.lacuna.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import org.lacuna.runtime.DeviceBuffer;
import org.lacuna.runtime.ResourceClosedException;

/** Off-heap host memory of the CPU backend, in its own shared arena so that closing frees it at once. */
final class CpuBuffer implements DeviceBuffer {
    static final int ALIGNMENT = 64;

    private final String backendName;
    private final Arena arena;
    private final MemorySegment segment;
    private final CpuMemoryAccounting accounting;
    private final AtomicBoolean closed = new AtomicBoolean();

    CpuBuffer(long bytes, String backendName, CpuMemoryAccounting accounting) {
        this.backendName = backendName;
        this.arena = Arena.ofShared();
        this.segment = arena.allocate(Math.max(bytes, 1), ALIGNMENT).asSlice(0, bytes);
        this.accounting = accounting;
        accounting.allocated(bytes);
        accounting.track(this);
    }

    MemorySegment segment(String call) {
        if (closed.get()) {
            throw new ResourceClosedException(call, "CPU buffer");
        }
        return segment;
    }

    @Override
    public long byteSize() {
        return segment.byteSize();
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
            accounting.released(segment.byteSize());
            accounting.untrack(this);
            arena.close();
        }
    }
}

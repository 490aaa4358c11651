package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;

/**
 * Off-heap host memory of the CPU backend: a block of its {@link CpuSegmentPool}, given back on close.
 *
 * <p>Every hand-out of the memory that may write it ({@link #segment}) moves the buffer's {@link #generation}, so a
 * cache of a weight's converted form ({@link WeightFormCache}) sees any upload, fill or op output that could have
 * changed the weight since. Reads that must not invalidate such a form use {@link #readSegment}.
 */
final class CpuBuffer implements DeviceBuffer {
    static final int ALIGNMENT = 64;

    private final String backendName;
    private final CpuSegmentPool pool;
    private final CpuSegmentPool.Block block;
    private final CpuMemoryAccounting accounting;
    private final MemorySegment memory;
    private final ClosedFlag closed = new ClosedFlag();
    private final AtomicLong generation = new AtomicLong();

    CpuBuffer(long bytes, String backendName, CpuSegmentPool pool, CpuMemoryAccounting accounting) {
        this.backendName = backendName;
        this.pool = pool;
        this.block = pool.acquire(bytes);
        this.accounting = accounting;
        this.memory = block.memory();
        accounting.track(this);
    }

    /**
     * A read-only view of host memory the backend does not own (a host kernel map's arrays, which are the CPU
     * backends' resident tables): nothing is copied, and closing only marks the view closed.
     */
    private CpuBuffer(String backendName, MemorySegment view) {
        this.backendName = backendName;
        this.pool = null;
        this.block = null;
        this.accounting = null;
        this.memory = view.asReadOnly();
    }

    static CpuBuffer view(String backendName, MemorySegment memory) {
        return new CpuBuffer(backendName, memory);
    }

    /**
     * The memory, for a call that may write it: counts as a change of the contents.
     *
     * @throws InvalidInputException for a read-only {@link #view}: the call was handed a resident table as its output
     */
    MemorySegment segment(String call) {
        MemorySegment memory = readSegment(call);
        if (memory.isReadOnly()) {
            throw InvalidInputException.argument(call, "an array it writes is a read-only view of host memory (a "
                    + "coordinate set's keys or a kernel map's tables, which the CPU backends read in place); write "
                    + "into an array of the backend's own");
        }
        generation.incrementAndGet();
        return memory;
    }

    /** The memory, for a call that only reads it: the generation stays, so converted forms of it stay valid. */
    MemorySegment readSegment(String call) {
        if (closed.isClosed()) {
            throw new ResourceClosedException(call, "CPU buffer");
        }
        return memory;
    }

    /** Moves whenever the memory was handed out for writing; equal generations mean unchanged contents. */
    long generation() {
        return generation.get();
    }

    @Override
    public long byteSize() {
        return memory.byteSize();
    }

    @Override
    public String backendName() {
        return backendName;
    }

    @Override
    public boolean isClosed() {
        return closed.isClosed();
    }

    @Override
    public void close() {
        if (closed.markClosed() && block != null) {
            accounting.untrack(this);
            pool.release(block);
        }
    }
}

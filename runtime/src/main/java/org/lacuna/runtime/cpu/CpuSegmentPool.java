package org.lacuna.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.memory.HostMemory;
import org.lacuna.runtime.memory.SizeClasses;

/**
 * The off-heap memory of one CPU backend, reused between buffers. Closing a shared arena costs a handshake with
 * every JVM thread (about 55 µs here), which is twenty times the work of a tiny op, so blocks up to
 * {@link #POOLED_LIMIT} are carved from one long-lived arena and go back to a free list per size class
 * ({@link SizeClasses}) when their buffer closes; they are all freed together when the backend closes. Bigger blocks,
 * whose handshake is small beside the work done on them, and blocks beyond the retained limit get an arena of their
 * own. A reused small block is zeroed, as a fresh one is. Big blocks (the activations of a batch: a 32-sentence
 * encoder's QKV and FFN outputs are 9 to 13 MiB) are kept too, each in its arena, up to {@link #RETAINED_LARGE_LIMIT},
 * and handed out again <em>without</em> zeroing: {@link org.lacuna.runtime.backend.Backend#allocate} promises
 * undefined contents (as the GPU's memory has), every op writes its whole output (the conformance suites poison
 * outputs to check it), and the fill of a fresh big block (plus the page faults of its fresh mapping and its arena's
 * close) took about 2% of a batch-32 encoder forward in a JFR profile (ad hoc, not kept as a record). Thread-safe.
 */
final class CpuSegmentPool implements AutoCloseable {
    /** Blocks up to this size are pooled. */
    static final long POOLED_LIMIT = 8L << 20;
    /** At most this many bytes are carved from the long-lived arena, so the pool's footprint stays bounded. */
    static final long RETAINED_LIMIT = 256L << 20;
    /** At most this many bytes of released big blocks are kept for reuse; beyond it they are freed at once. */
    static final long RETAINED_LARGE_LIMIT = 256L << 20;
    /** The largest request rounded to a size class and kept for reuse (1 TiB, beyond any host here). */
    private static final long MAX_ROUNDED = 1L << 40;

    private final CpuMemoryAccounting accounting;
    private final Arena arena = Arena.ofShared();
    private final Map<Long, ArrayDeque<MemorySegment>> free = new HashMap<>();
    private long carvedBytes;
    /** Released big blocks by size class, each with its own arena (so that one can be freed alone). */
    private final Map<Long, ArrayDeque<Block>> freeLarge = new HashMap<>();
    private long retainedLargeBytes;
    /** Read and set under this pool's lock, so no block is carved or kept once the close has dropped the cache. */
    private final ClosedFlag closed = new ClosedFlag();

    CpuSegmentPool(CpuMemoryAccounting accounting) {
        this.accounting = accounting;
    }

    /**
     * A block of at least {@code bytes}, zeroed unless it is a reused big one; its {@link Block#memory()} is sliced to
     * exactly {@code bytes}.
     */
    Block acquire(long bytes) {
        if (bytes <= POOLED_LIMIT) {
            long size = SizeClasses.roundUp(bytes);
            MemorySegment reused = null;
            synchronized (this) {
                ArrayDeque<MemorySegment> cached = free.get(size);
                if (cached != null && !cached.isEmpty()) {
                    reused = cached.pop();
                    accounting.acquired(size, true);
                } else if (!closed.isClosed() && carvedBytes + size <= RETAINED_LIMIT) {
                    // Counted only once carved, so a failed reservation leaves the stats and the budget as they were.
                    MemorySegment whole = HostMemory.allocate(arena, size, CpuBuffer.ALIGNMENT, "allocate");
                    carvedBytes += size;
                    accounting.acquired(size, false);
                    return new Block(whole, whole.asSlice(0, bytes), size, null);
                }
            }
            if (reused != null) {
                // Zeroed outside the lock: the block is ours alone now, and other threads need not wait for the fill.
                return new Block(reused, reused.asSlice(0, bytes).fill((byte) 0), size, null);
            }
        }
        return acquireLarge(bytes);
    }

    /**
     * A block of its own arena. A big one is a released block of its size class as it was left (not zeroed), else
     * fresh; a small one (the pool's carved limit reached) is always fresh and freed with its buffer.
     */
    private Block acquireLarge(long bytes) {
        // Sizes no host could hold are not rounded (which could overflow): the allocation reports them.
        boolean big = bytes > POOLED_LIMIT && bytes <= MAX_ROUNDED;
        long size = big ? SizeClasses.roundUp(bytes) : bytes;
        synchronized (this) {
            ArrayDeque<Block> cached = big ? freeLarge.get(size) : null;
            if (cached != null && !cached.isEmpty()) {
                Block kept = cached.pop();
                retainedLargeBytes -= size;
                accounting.acquired(size, true);
                return new Block(kept.whole(), kept.whole().asSlice(0, bytes), size, kept.own());
            }
        }
        Arena own = Arena.ofShared();
        MemorySegment whole;
        try {
            whole = HostMemory.allocate(own, size, CpuBuffer.ALIGNMENT, "allocate");
        } catch (RuntimeException e) {
            own.close();
            throw e;
        }
        accounting.acquired(size, false);
        return new Block(whole, whole.asSlice(0, bytes), size, own);
    }

    /** Returns a block: pooled ones to their free list, others freed at once. Called once per block. */
    void release(Block block) {
        if (block.own() != null) {
            synchronized (this) {
                if (block.size() > POOLED_LIMIT && !closed.isClosed()
                        && retainedLargeBytes + block.size() <= RETAINED_LARGE_LIMIT) {
                    freeLarge.computeIfAbsent(block.size(), size -> new ArrayDeque<>()).push(block);
                    retainedLargeBytes += block.size();
                    accounting.released(block.size(), true);
                    return;
                }
                accounting.released(block.size(), false);
            }
            block.own().close();
            return;
        }
        synchronized (this) {
            boolean keep = !closed.isClosed(); // once closed, the block is freed with the arena
            if (keep) {
                free.computeIfAbsent(block.size(), size -> new ArrayDeque<>()).push(block.whole());
            }
            accounting.released(block.size(), keep);
        }
    }

    /** Frees every pooled block; buffers still open must have been closed first. */
    @Override
    public void close() {
        List<Block> kept = new ArrayList<>();
        synchronized (this) {
            if (!closed.markClosed()) {
                return;
            }
            free.clear();
            freeLarge.values().forEach(kept::addAll);
            freeLarge.clear();
            retainedLargeBytes = 0;
            accounting.droppedCache();
        }
        // The kept big blocks, taken off the free lists under the lock: no acquire can hand one out now.
        for (Block block : kept) {
            block.own().close();
        }
        arena.close();
    }

    /**
     * A block handed out by the pool.
     *
     * @param whole  all the memory the block holds (its size class when pooled)
     * @param memory the requested bytes at its start
     * @param size   the bytes accounted for it
     * @param own    the block's own arena, or null when it is pooled
     */
    record Block(MemorySegment whole, MemorySegment memory, long size, Arena own) {
    }
}

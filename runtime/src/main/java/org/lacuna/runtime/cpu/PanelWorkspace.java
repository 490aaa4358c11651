package org.lacuna.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.memory.HostMemory;

/**
 * Native scratch for the token panels of the sparse linear layers: 64-byte aligned, so every vector load of a panel
 * stays within one cache line, and reused from call to call, so a layer neither allocates nor frees per call (a shared
 * arena's close stops every thread). Each call in flight holds its own block; a few idle blocks are kept, the largest
 * a layer has needed, and all are freed when the backend closes.
 */
final class PanelWorkspace implements AutoCloseable {
    static final int ALIGNMENT = 64;
    private static final int IDLE_BLOCKS = 4;

    private final ArrayDeque<Block> idle = new ArrayDeque<>();
    private final ClosedFlag closed = new ClosedFlag();

    /** One lease of scratch: return it with {@link #release}. */
    record Block(Arena arena, MemorySegment segment) {
    }

    /** A block of at least {@code bytes}; idle blocks too small for it are freed, since calls are growing. */
    synchronized Block acquire(long bytes) {
        for (var it = idle.iterator(); it.hasNext(); ) {
            Block block = it.next();
            if (block.segment().byteSize() >= bytes) {
                it.remove();
                return block;
            }
        }
        idle.forEach(block -> block.arena().close());
        idle.clear();
        Arena arena = Arena.ofShared();
        try {
            return new Block(arena, HostMemory.allocate(arena, Math.max(bytes, ALIGNMENT), ALIGNMENT,
                    "PanelWorkspace.acquire"));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    synchronized void release(Block block) {
        if (closed.isClosed() || idle.size() >= IDLE_BLOCKS) {
            block.arena().close();
        } else {
            idle.push(block);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed.markClosed()) {
            return;
        }
        idle.forEach(block -> block.arena().close());
        idle.clear();
    }
}

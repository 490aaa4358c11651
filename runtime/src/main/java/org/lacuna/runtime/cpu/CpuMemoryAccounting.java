package org.lacuna.runtime.cpu;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.lacuna.runtime.backend.MemoryStats;

/**
 * In-use, cached and peak bytes of the CPU backend ({@link CpuSegmentPool} reports each block it hands out or takes
 * back), and the buffers still open, so that a closed backend leaves nothing behind.
 */
final class CpuMemoryAccounting {
    private final Set<CpuBuffer> live = ConcurrentHashMap.newKeySet();
    private long inUse;
    private long cached;
    private long peak;
    private long allocations;
    private long reuses;

    void track(CpuBuffer buffer) {
        live.add(buffer);
    }

    void untrack(CpuBuffer buffer) {
        live.remove(buffer);
    }

    /** Closes every buffer still open. */
    void releaseAll() {
        for (CpuBuffer buffer : List.copyOf(live)) {
            buffer.close();
        }
    }

    synchronized void acquired(long bytes, boolean reused) {
        inUse += bytes;
        if (reused) {
            cached -= bytes;
            reuses++;
        } else {
            allocations++;
        }
        peak = Math.max(peak, inUse + cached);
    }

    synchronized void released(long bytes, boolean keptInCache) {
        inUse -= bytes;
        if (keptInCache) {
            cached += bytes;
        }
    }

    /** The pool freed its cache. */
    synchronized void droppedCache() {
        cached = 0;
    }

    synchronized MemoryStats snapshot() {
        return new MemoryStats(inUse, cached, peak, allocations, reuses);
    }
}

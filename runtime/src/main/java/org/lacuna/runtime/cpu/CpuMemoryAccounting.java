package org.lacuna.runtime.cpu;

import java.util.concurrent.atomic.AtomicLong;
import org.lacuna.runtime.MemoryStats;

/** In-use and peak bytes of the CPU backend (it caches nothing: the JVM's allocator is fast enough). */
final class CpuMemoryAccounting {
    private final AtomicLong inUse = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final AtomicLong allocations = new AtomicLong();
    private final java.util.Set<CpuBuffer> live = java.util.concurrent.ConcurrentHashMap.newKeySet();

    void track(CpuBuffer buffer) {
        live.add(buffer);
    }

    void untrack(CpuBuffer buffer) {
        live.remove(buffer);
    }

    /** Frees every buffer still open: a closed backend leaves nothing behind. */
    void releaseAll() {
        for (CpuBuffer buffer : java.util.List.copyOf(live)) {
            buffer.close();
        }
    }

    void allocated(long bytes) {
        long now = inUse.addAndGet(bytes);
        peak.accumulateAndGet(now, Math::max);
        allocations.incrementAndGet();
    }

    void released(long bytes) {
        inUse.addAndGet(-bytes);
    }

    MemoryStats snapshot() {
        return new MemoryStats(inUse.get(), 0, peak.get(), allocations.get(), 0);
    }
}

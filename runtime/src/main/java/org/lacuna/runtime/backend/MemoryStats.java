package org.lacuna.runtime.backend;

/**
 * A snapshot of a backend's memory pool.
 *
 * @param inUseBytes   bytes handed out and not yet returned (size-class rounded)
 * @param cachedBytes  bytes returned to the pool and kept for reuse
 * @param peakBytes    the largest {@code inUseBytes + cachedBytes} seen since the pool opened
 * @param allocations  calls that reached the underlying allocator
 * @param reuses       requests served from the cache
 */
public record MemoryStats(long inUseBytes, long cachedBytes, long peakBytes, long allocations, long reuses) {
}

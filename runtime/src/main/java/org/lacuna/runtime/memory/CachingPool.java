package org.lacuna.runtime.memory;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.lacuna.runtime.backend.MemoryStats;
import org.lacuna.runtime.error.DeviceOutOfMemoryException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;

/**
 * A caching allocator: freed blocks are kept per size class and handed out again, so steady-state inference
 * allocates nothing from the driver. When the device is out of memory, the cache is released and the allocation
 * tried once more before failing. Closing frees every block, cached or still in use. Thread-safe.
 */
public final class CachingPool implements AutoCloseable {
    private final RawAllocator allocator;
    private final TreeMap<Long, ArrayDeque<Long>> cached = new TreeMap<>();
    private final Map<Long, Long> inUse = new HashMap<>(); // address -> class size
    private long inUseBytes;
    private long cachedBytes;
    private long peakBytes;
    private long allocations;
    private long reuses;
    private final ClosedFlag closed = new ClosedFlag();

    public CachingPool(RawAllocator allocator) {
        this.allocator = allocator;
    }

    /** A block of at least {@code bytes}; its real size is {@link SizeClasses#roundUp(long)} of the request. */
    public synchronized Block acquire(long bytes) {
        if (closed.isClosed()) {
            throw new ResourceClosedException("CachingPool.acquire", "memory pool");
        }
        long size = SizeClasses.roundUp(bytes);
        ArrayDeque<Long> free = cached.get(size);
        long address;
        if (free != null && !free.isEmpty()) {
            address = free.pop();
            cachedBytes -= size;
            reuses++;
        } else {
            address = allocateFresh(size);
            allocations++;
        }
        inUse.put(address, size);
        inUseBytes += size;
        peakBytes = Math.max(peakBytes, inUseBytes + cachedBytes);
        return new Block(address, size);
    }

    /** Returns a block to the cache. Releasing an unknown or already released block is a bug and throws. */
    public synchronized void release(Block block) {
        if (closed.isClosed()) {
            return; // the pool already freed everything
        }
        Long size = inUse.remove(block.address());
        if (size == null) {
            throw new IllegalStateException("block 0x" + Long.toHexString(block.address()) + " is not in use by this pool");
        }
        inUseBytes -= size;
        cached.computeIfAbsent(size, k -> new ArrayDeque<>()).push(block.address());
        cachedBytes += size;
    }

    /**
     * Frees every cached block back to the allocator. The blocks leave the pool first and each is freed in turn even
     * where one fails (the first failure is thrown, the others suppressed), so a throw neither leaks the rest nor
     * leaves a freed block cached to be freed again.
     */
    public synchronized void trim() {
        freeAll(takeCached());
    }

    /** The cached blocks (address to size), taken out of the pool. */
    private Map<Long, Long> takeCached() {
        Map<Long, Long> blocks = new LinkedHashMap<>();
        cached.forEach((size, addresses) -> addresses.forEach(address -> blocks.put(address, size)));
        cached.clear();
        cachedBytes = 0;
        return blocks;
    }

    public synchronized MemoryStats stats() {
        return new MemoryStats(inUseBytes, cachedBytes, peakBytes, allocations, reuses);
    }

    /** Frees everything, blocks still handed out included; later releases of those blocks are ignored. */
    @Override
    public synchronized void close() {
        // Marked first: a free that throws must not leave the pool to free the blocks already freed a second time.
        if (!closed.markClosed()) {
            return;
        }
        Map<Long, Long> blocks = takeCached();
        blocks.putAll(inUse);
        inUse.clear();
        inUseBytes = 0;
        freeAll(blocks);
    }

    /** Frees each block (address to size) even where one fails; throws the first failure, the others suppressed. */
    private void freeAll(Map<Long, Long> blocks) {
        RuntimeException first = null;
        for (Map.Entry<Long, Long> block : blocks.entrySet()) {
            try {
                allocator.free(block.getKey(), block.getValue());
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    public synchronized boolean isClosed() {
        return closed.isClosed();
    }

    private long allocateFresh(long size) {
        try {
            return allocator.allocate(size);
        } catch (DeviceOutOfMemoryException first) {
            if (cachedBytes == 0) {
                throw first;
            }
            long released = cachedBytes;
            trim();
            try {
                return allocator.allocate(size);
            } catch (DeviceOutOfMemoryException second) {
                throw new DeviceOutOfMemoryException("CachingPool.acquire", size,
                        "after releasing " + released + " cached bytes; " + inUseBytes + " bytes in use");
            }
        }
    }

    /** A block handed out by the pool. */
    public record Block(long address, long size) {
    }
}

package org.lacuna.runtime.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.MemoryStats;
import org.lacuna.runtime.error.DeviceOutOfMemoryException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.testing.SimultaneousCalls;

class CachingPoolTest {

    /** Hands out fake addresses, remembers what is live and refuses to go over a capacity. */
    static class FakeAllocator implements RawAllocator {
        final Map<Long, Long> live = new HashMap<>();
        final long capacity;
        long next = 0x1000;
        long used;
        int allocateCalls;
        int freeCalls;

        FakeAllocator(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public long allocate(long bytes) {
            allocateCalls++;
            if (used + bytes > capacity) {
                throw new DeviceOutOfMemoryException("fake", bytes, "");
            }
            long address = next;
            next += bytes;
            used += bytes;
            live.put(address, bytes);
            return address;
        }

        @Override
        public void free(long address, long bytes) {
            freeCalls++;
            Long size = live.remove(address);
            assertEquals(bytes, size, "freed with the wrong size or twice");
            used -= bytes;
        }
    }

    @Test
    void reusesAFreedBlockOfTheSameClass() {
        FakeAllocator allocator = new FakeAllocator(1L << 30);
        try (CachingPool pool = new CachingPool(allocator)) {
            CachingPool.Block first = pool.acquire(1000);
            pool.release(first);
            CachingPool.Block second = pool.acquire(900); // same 1 KiB class
            assertEquals(first.address(), second.address());
            assertEquals(1, allocator.allocateCalls);
            MemoryStats stats = pool.stats();
            assertEquals(1024, stats.inUseBytes());
            assertEquals(0, stats.cachedBytes());
            assertEquals(1, stats.allocations());
            assertEquals(1, stats.reuses());
        }
    }

    @Test
    void differentClassesDoNotShareBlocks() {
        FakeAllocator allocator = new FakeAllocator(1L << 30);
        try (CachingPool pool = new CachingPool(allocator)) {
            pool.release(pool.acquire(4096));
            CachingPool.Block big = pool.acquire(3L << 20);
            assertEquals(4L << 20, big.size());
            assertEquals(2, allocator.allocateCalls);
            assertEquals(4096, pool.stats().cachedBytes());
        }
    }

    @Test
    void statsTrackInUseCachedAndPeak() {
        try (CachingPool pool = new CachingPool(new FakeAllocator(1L << 30))) {
            CachingPool.Block a = pool.acquire(2048);
            CachingPool.Block b = pool.acquire(2048);
            pool.release(a);
            MemoryStats stats = pool.stats();
            assertEquals(2048, stats.inUseBytes());
            assertEquals(2048, stats.cachedBytes());
            assertEquals(4096, stats.peakBytes());
            pool.release(b);
            pool.trim();
            assertEquals(new MemoryStats(0, 0, 4096, 2, 0), pool.stats());
        }
    }

    @Test
    void outOfMemoryReleasesTheCacheAndRetries() {
        FakeAllocator allocator = new FakeAllocator(8L << 20);
        try (CachingPool pool = new CachingPool(allocator)) {
            pool.release(pool.acquire(6L << 20));
            CachingPool.Block block = pool.acquire(4L << 20); // needs the cached 6 MiB freed first
            assertEquals(4L << 20, block.size());
            assertEquals(0, pool.stats().cachedBytes());
            assertThrows(DeviceOutOfMemoryException.class, () -> pool.acquire(6L << 20));
        }
    }

    @Test
    void closeFreesEverythingIncludingBlocksStillInUse() {
        FakeAllocator allocator = new FakeAllocator(1L << 30);
        CachingPool pool = new CachingPool(allocator);
        CachingPool.Block held = pool.acquire(100);
        pool.release(pool.acquire(5000));
        pool.close();
        assertTrue(allocator.live.isEmpty(), "every block must be freed on close");
        pool.release(held); // ignored after close, no double free
        pool.close(); // idempotent
        assertEquals(2, allocator.freeCalls);
        assertThrows(ResourceClosedException.class, () -> pool.acquire(1));
    }

    // close() is synchronized, so this pins the outcome of racing closes (each block freed once, none leaked)
    // rather than the close-once flag itself, which ClosedFlagTest races.
    @Test
    void closesRacingFromSeveralThreadsFreeEveryBlockOnce() throws Exception {
        int rounds = 500;
        FakeAllocator[] allocators = new FakeAllocator[rounds];
        CachingPool[] pools = new CachingPool[rounds];
        for (int r = 0; r < rounds; r++) {
            allocators[r] = new FakeAllocator(1L << 30);
            pools[r] = new CachingPool(allocators[r]);
            pools[r].acquire(100); // held
            pools[r].release(pools[r].acquire(5000)); // cached
        }
        SimultaneousCalls.race(SimultaneousCalls.threads(), rounds, r -> pools[r].close());
        for (int r = 0; r < rounds; r++) {
            assertEquals(2, allocators[r].freeCalls, "frees in round " + r);
            assertTrue(allocators[r].live.isEmpty());
        }
    }

    @Test
    void aCloseWhoseFreeFailedIsNotRunAgainOverTheBlocksItFreed() {
        FakeAllocator allocator = new FakeAllocator(1L << 30) {
            @Override
            public void free(long address, long bytes) {
                super.free(address, bytes);
                throw new IllegalStateException("free failed after freeing 0x" + Long.toHexString(address));
            }
        };
        CachingPool pool = new CachingPool(allocator);
        pool.release(pool.acquire(100)); // cached
        pool.acquire(3000); // held
        pool.release(pool.acquire(5000)); // cached
        IllegalStateException failed = assertThrows(IllegalStateException.class, pool::close);
        assertEquals(3, allocator.freeCalls, "every block freed although each free threw");
        assertTrue(allocator.live.isEmpty(), "nothing leaked");
        assertEquals(2, failed.getSuppressed().length, "the first failure thrown, the others suppressed");
        pool.close(); // closed already: frees nothing a second time
        assertEquals(3, allocator.freeCalls);
        assertTrue(pool.isClosed());
        assertThrows(ResourceClosedException.class, () -> pool.acquire(1));
    }

    @Test
    void releasingABlockTwiceIsABug() {
        try (CachingPool pool = new CachingPool(new FakeAllocator(1L << 30))) {
            CachingPool.Block block = pool.acquire(10);
            pool.release(block);
            assertThrows(IllegalStateException.class, () -> pool.release(block));
        }
    }

    @Test
    void sizeClasses() {
        assertEquals(512, SizeClasses.roundUp(0));
        assertEquals(512, SizeClasses.roundUp(512));
        assertEquals(1024, SizeClasses.roundUp(513));
        assertEquals(1L << 20, SizeClasses.roundUp((1L << 20) - 1));
        assertEquals(2L << 20, SizeClasses.roundUp((1L << 20) + 1));
        assertEquals(4L << 20, SizeClasses.roundUp((2L << 20) + 1));
        assertThrows(IllegalArgumentException.class, () -> SizeClasses.roundUp(-1));
    }
}

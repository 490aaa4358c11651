package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.MemoryStats;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.memory.SizeClasses;

/** The CPU backend's buffers: small blocks are reused, accounting returns to zero, closed means closed. */
class CpuSegmentPoolTest {
    @Test
    void aClosedSmallBufferIsReusedAndComesBackZeroed() {
        try (Backend backend = new CpuBackendProvider().open(0); Arena host = Arena.ofConfined()) {
            DeviceBuffer first = backend.allocate(1000);
            MemorySegment ones = host.allocate(1000).fill((byte) 1);
            backend.upload(ones, first, 0, 1000);
            first.close();
            MemoryStats afterClose = backend.memoryStats();
            assertEquals(0, afterClose.inUseBytes());
            assertEquals(1024, afterClose.cachedBytes(), "the block stays in the pool");

            DeviceBuffer second = backend.allocate(900);
            MemoryStats afterReuse = backend.memoryStats();
            assertEquals(afterClose.allocations(), afterReuse.allocations(), "no fresh allocation");
            assertEquals(1, afterReuse.reuses());
            assertEquals(900, second.byteSize());
            MemorySegment back = host.allocate(900);
            backend.download(second, 0, back, 900);
            for (long i = 0; i < 900; i++) {
                assertEquals(0, back.get(ValueLayout.JAVA_BYTE, i), "a reused block is zeroed, as a fresh one is");
            }
            second.close();
            assertEquals(0, backend.memoryStats().inUseBytes());
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseFailsClearly() {
        try (Backend backend = new CpuBackendProvider().open(0); Arena host = Arena.ofConfined()) {
            DeviceBuffer buffer = backend.allocate(64);
            buffer.close();
            buffer.close();
            MemoryStats stats = backend.memoryStats();
            assertEquals(0, stats.inUseBytes());
            assertEquals(512, stats.cachedBytes(), "a double close returns the block once");
            assertTrue(buffer.isClosed());
            assertThrows(ResourceClosedException.class, () -> backend.upload(host.allocate(64), buffer, 0, 64));
            assertThrows(ResourceClosedException.class, () -> backend.fill(buffer, 0, 64, (byte) 0));
            // The next two allocations of that class must get different blocks: the block was not cached twice.
            DeviceBuffer a = backend.allocate(64);
            DeviceBuffer b = backend.allocate(64);
            assertEquals(1, backend.memoryStats().reuses());
            a.close();
            b.close();
        }
    }

    @Test
    void bigBuffersAreKeptAndReusedUnzeroedUpToTheLimitAndBackendCloseFreesEverything() {
        Backend backend = new CpuBackendProvider().open(0);
        long bigBytes = CpuSegmentPool.POOLED_LIMIT + 1;
        long bigClass = SizeClasses.roundUp(bigBytes);
        try (Arena host = Arena.ofConfined()) {
            DeviceBuffer big = backend.allocate(bigBytes);
            backend.upload(host.allocate(16).fill((byte) 7), big, 0, 16);
            big.close();
            assertEquals(bigClass, backend.memoryStats().cachedBytes(), "a released big block is kept");
            long allocations = backend.memoryStats().allocations();

            DeviceBuffer again = backend.allocate(bigBytes + 4096); // same size class
            assertEquals(allocations, backend.memoryStats().allocations(), "no fresh allocation");
            assertEquals(0, backend.memoryStats().cachedBytes());
            MemorySegment back = host.allocate(16);
            backend.download(again, 0, back, 16);
            assertEquals(7, back.get(ValueLayout.JAVA_BYTE, 15), "a reused big block is handed out as it was left");
            again.close();

            // Beyond the retained limit, released big blocks are freed at once.
            int fit = (int) (CpuSegmentPool.RETAINED_LARGE_LIMIT / bigClass);
            DeviceBuffer[] many = new DeviceBuffer[fit + 2];
            for (int i = 0; i < many.length; i++) {
                many[i] = backend.allocate(bigBytes);
            }
            for (DeviceBuffer buffer : many) {
                buffer.close();
            }
            assertEquals(fit * bigClass, backend.memoryStats().cachedBytes(), "only the retained limit is kept");
        }
        backend.allocate(4096).close();
        DeviceBuffer stillOpen = backend.allocate(100);
        assertEquals(512, backend.memoryStats().inUseBytes());
        backend.close();
        backend.close();
        assertTrue(stillOpen.isClosed(), "closing the backend closes its buffers");
        stillOpen.close();
        MemoryStats stats = backend.memoryStats();
        assertEquals(0, stats.inUseBytes());
        assertEquals(0, stats.cachedBytes(), "the pool is freed with the backend");
    }

    @Test
    void theReferenceBackendPoolsToo() {
        try (Backend backend = new ReferenceBackendProvider().open(0)) {
            backend.allocate(10).close();
            backend.allocate(10).close();
            assertEquals(1, backend.memoryStats().reuses());
            assertEquals(0, backend.memoryStats().inUseBytes());
        }
    }
}

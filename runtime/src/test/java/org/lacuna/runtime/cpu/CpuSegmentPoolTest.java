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
    void bigBuffersAreFreedAtOnceAndBackendCloseFreesEverything() {
        Backend backend = new CpuBackendProvider().open(0);
        DeviceBuffer big = backend.allocate(CpuSegmentPool.POOLED_LIMIT + 1);
        big.close();
        assertEquals(0, backend.memoryStats().cachedBytes(), "blocks above the pooled limit are not kept");
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

package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.DeviceOutOfMemoryException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.ops.Activation;

/**
 * Closing a CPU backend while another thread uses it: the close waits for the call in flight, later calls are a
 * {@link ResourceClosedException}, and the memory accounting comes back to zero.
 */
class CpuBackendCloseTest {
    @Test
    void closeWaitsForOpsInFlightAndRefusesLaterOnes() throws InterruptedException {
        Backend backend = new CpuBackendProvider().open(0, new CpuOptions(2, true, false));
        DeviceArray x = HostData.upload(backend, DType.F32, Shape.of(384, 512), new float[384 * 512]);
        DeviceArray w = HostData.upload(backend, DType.F32, Shape.of(512, 512), new float[512 * 512]);
        DeviceArray y = HostData.upload(backend, DType.F32, Shape.of(384, 512), new float[384 * 512]);
        var firstDone = new CountDownLatch(1);
        var ended = new AtomicReference<Throwable>();
        Thread user = Thread.ofPlatform().start(() -> {
            try {
                while (true) {
                    backend.ops().gemm().linearDense(x, w, null, Activation.NONE, y);
                    firstDone.countDown();
                }
            } catch (Throwable t) {
                ended.set(t);
                firstDone.countDown();
            }
        });
        firstDone.await();
        backend.close();
        user.join();
        assertInstanceOf(ResourceClosedException.class, ended.get(), "an op never sees its memory freed under it");
        assertThrows(ResourceClosedException.class, () -> backend.ops());
    }

    @Test
    void allocationsRacingCloseLeaveNothingInUse() throws InterruptedException {
        for (int round = 0; round < 20; round++) {
            Backend backend = new CpuBackendProvider().open(0, new CpuOptions(1, false, false));
            var started = new CountDownLatch(1);
            var ended = new AtomicReference<Throwable>();
            Thread user = Thread.ofPlatform().start(() -> {
                try {
                    while (true) {
                        backend.allocate(1000);
                        started.countDown();
                    }
                } catch (Throwable t) {
                    ended.set(t);
                    started.countDown();
                }
            });
            started.await();
            backend.close();
            user.join();
            assertInstanceOf(ResourceClosedException.class, ended.get());
            assertEquals(0, backend.memoryStats().inUseBytes(), "round " + round);
        }
    }

    @Test
    void sizesNoHostCanHoldAreOutOfMemory() {
        try (Backend backend = new CpuBackendProvider().open(0)) {
            for (long bytes : new long[] {Long.MAX_VALUE, Long.MAX_VALUE - 4096, 1L << 52}) {
                DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                        () -> backend.allocate(bytes));
                assertTrue(e.getMessage().contains(Long.toString(bytes)), e.getMessage());
            }
            assertEquals(0, backend.memoryStats().inUseBytes());
            backend.allocate(100).close();
        }
    }
}

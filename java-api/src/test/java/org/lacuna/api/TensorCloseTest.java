package org.lacuna.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.testing.SimultaneousCalls;

/** A tensor frees its memory once, however many threads close it at the same moment. */
class TensorCloseTest {
    /** Memory that counts its frees and, like a native free, does not guard against a second one. */
    private static final class CountingBuffer implements DeviceBuffer {
        final AtomicInteger frees = new AtomicInteger();

        @Override
        public long byteSize() {
            return 16;
        }

        @Override
        public String backendName() {
            return "cpu";
        }

        @Override
        public boolean isClosed() {
            return frees.get() > 0;
        }

        @Override
        public void close() {
            frees.incrementAndGet();
        }
    }

    @Test
    void closesRacingFromSeveralThreadsFreeTheMemoryOnce() throws Exception {
        int rounds = 2_000;
        try (Session session = Lacuna.open("cpu", 0)) {
            CountingBuffer[] buffers = new CountingBuffer[rounds];
            Tensor[] tensors = new Tensor[rounds];
            for (int r = 0; r < rounds; r++) {
                buffers[r] = new CountingBuffer();
                tensors[r] = new Tensor(session, new DeviceArray(buffers[r], 0, DType.F32, Shape.of(4)), null);
            }
            SimultaneousCalls.race(SimultaneousCalls.threads(), rounds, r -> tensors[r].close());
            for (int r = 0; r < rounds; r++) {
                assertEquals(1, buffers[r].frees.get(), "frees in round " + r);
                assertTrue(tensors[r].isClosed());
                Tensor closed = tensors[r];
                ResourceClosedException e = assertThrows(ResourceClosedException.class, closed::toFloatArray);
                assertTrue(e.getMessage().contains("tensor F32"), e.getMessage());
            }
        }
    }
}

package org.lacuna.runtime.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.DeviceOutOfMemoryException;
import org.lacuna.runtime.error.ErrorCode;

class HostMemoryTest {
    @Test
    void aReservationNoHostCanHoldIsDeviceOutOfMemoryNamingTheCallAndSize() {
        try (Arena arena = Arena.ofConfined()) {
            for (long bytes : new long[] {Long.MAX_VALUE - 64, 1L << 52}) {
                DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                        () -> HostMemory.allocate(arena, bytes, 8, "HostData.download"));
                assertEquals(ErrorCode.OUT_OF_MEMORY, e.code());
                assertEquals(bytes, e.requestedBytes());
                assertTrue(e.getMessage().contains("HostData.download") && e.getMessage().contains(Long.toString(bytes))
                        && e.getMessage().contains("host memory"), e.getMessage());
            }
            // The arena is still usable after a refusal, and an empty request still gets a segment.
            assertEquals(1, HostMemory.allocate(arena, 0, 8, "test").byteSize());
            assertEquals(4096, HostMemory.allocate(arena, 4096, 64, "test").byteSize());
        }
    }
}

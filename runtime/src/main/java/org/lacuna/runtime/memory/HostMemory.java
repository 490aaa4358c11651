package org.lacuna.runtime.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.error.DeviceOutOfMemoryException;

/**
 * Off-heap host memory (staging for uploads and downloads, CPU scratch) with Lacuna's error: a reservation the JVM
 * or the OS refuses is a {@link DeviceOutOfMemoryException} naming the call and the size, not a raw
 * {@link OutOfMemoryError}, so callers handle every out-of-memory the same way.
 */
public final class HostMemory {
    private HostMemory() {
    }

    /** {@code bytes} (at least 1) from {@code arena} at {@code alignment}. */
    public static MemorySegment allocate(Arena arena, long bytes, long alignment, String call) {
        try {
            return arena.allocate(Math.max(1, bytes), alignment);
        } catch (OutOfMemoryError | IllegalArgumentException e) {
            // IllegalArgumentException: a size the address space cannot hold (near Long.MAX_VALUE).
            throw new DeviceOutOfMemoryException(call, bytes, "host memory: the JVM could not reserve " + bytes
                    + " bytes off-heap (" + e.getMessage() + ")");
        }
    }
}

package org.lacuna.runtime.data;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;

/** Bounds checks shared by every backend's copies, so an out-of-range copy fails clearly instead of faulting. */
public final class BufferRanges {
    private BufferRanges() {
    }

    public static void check(String call, DeviceBuffer buffer, long offset, long bytes) {
        if (buffer == null) {
            throw InvalidInputException.argument(call, "buffer is null");
        }
        if (buffer.isClosed()) {
            throw new ResourceClosedException(call, "buffer");
        }
        if (offset < 0 || bytes < 0 || offset > buffer.byteSize() - bytes) {
            throw InvalidInputException.argument(call, "range [" + offset + ", " + offset + "+" + bytes
                    + ") is outside a buffer of " + buffer.byteSize() + " bytes");
        }
    }

    public static void checkHost(String call, MemorySegment host, long bytes) {
        if (host == null) {
            throw InvalidInputException.argument(call, "host segment is null");
        }
        if (host.byteSize() < bytes) {
            throw InvalidInputException.argument(call, "host segment holds " + host.byteSize() + " bytes, " + bytes + " needed");
        }
    }
}

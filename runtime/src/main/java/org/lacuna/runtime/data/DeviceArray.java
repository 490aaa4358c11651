package org.lacuna.runtime.data;

import java.util.Objects;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;

/**
 * A typed, contiguous, row-major window onto a {@link DeviceBuffer}: what ops read and write.
 * Owns nothing; the buffer's owner decides its lifetime.
 */
public record DeviceArray(DeviceBuffer buffer, long byteOffset, DType dtype, Shape shape) {
    public DeviceArray {
        Objects.requireNonNull(buffer, "buffer");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        long bytes = Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
        if (byteOffset < 0 || byteOffset + bytes > buffer.byteSize()) {
            throw InvalidInputException.shape("DeviceArray", shape + " of " + dtype + " at offset " + byteOffset
                    + " does not fit a buffer of " + buffer.byteSize() + " bytes");
        }
    }

    public long byteSize() {
        return shape.elementCount() * dtype.byteSize();
    }

    public long elementCount() {
        return shape.elementCount();
    }

    /** Fails with a clear error if the buffer was closed. */
    public DeviceArray checkOpen(String call) {
        if (buffer.isClosed()) {
            throw new ResourceClosedException(call, "the buffer of a " + dtype + shape + " tensor");
        }
        return this;
    }
}

package org.lacuna.runtime.data;

/**
 * A block of memory owned by one backend: device memory for CUDA, off-heap memory for the CPU backend.
 * Closing returns it to its pool; {@code close()} is idempotent and any use after close throws.
 */
public interface DeviceBuffer extends AutoCloseable {
    long byteSize();

    /** The backend that owns this buffer; ops refuse buffers of other backends. */
    String backendName();

    boolean isClosed();

    @Override
    void close();
}

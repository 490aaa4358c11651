package org.lacuna.runtime.backend;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.ops.OpSet;

/**
 * An opened backend bound to one device: it owns the memory pool, streams and compiled kernels, and frees all of
 * them on {@link #close()}.
 */
public interface Backend extends AutoCloseable {
    String name();

    DeviceInfo device();

    /** Allocates at least {@code bytes} bytes; the contents are undefined. */
    DeviceBuffer allocate(long bytes);

    /** Copies {@code bytes} from host memory into the buffer at {@code offset}. */
    void upload(MemorySegment source, DeviceBuffer target, long offset, long bytes);

    /** Copies {@code bytes} from the buffer at {@code offset} into host memory. */
    void download(DeviceBuffer source, long offset, MemorySegment target, long bytes);

    /** Fills {@code bytes} bytes at {@code offset} with a repeated byte (used to poison outputs in tests). */
    void fill(DeviceBuffer target, long offset, long bytes, byte value);

    /** Waits until all work issued so far has finished. */
    void synchronize();

    OpSet ops();

    /** A timer for work on this backend's stream. */
    DeviceTimer newTimer();

    MemoryStats memoryStats();

    /** Host↔device copies and stream waits since the backend opened (readable after close). */
    TransferStats transferStats();

    boolean isClosed();

    @Override
    void close();
}

package org.lacuna.runtime.internal.backend;

import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.backend.TransferStats;
import org.lacuna.runtime.data.BufferRanges;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.memory.TransferCounter;
import org.lacuna.runtime.ops.OpSet;

/**
 * What every backend does the same way around its own memory, copies and stream: the name and device it reports, the
 * checks before any work (the backend is open; sizes, buffer ranges and host segments are valid; a buffer is its own),
 * and the count of host-device copies and synchronisations. A subclass does the work on checked arguments.
 *
 * @param <B> the backend's own buffer type
 */
public abstract class CheckedBackend<B extends DeviceBuffer> implements Backend {
    private final String name;
    private final String closedName;
    private final DeviceInfo device;
    private final Class<B> bufferType;
    private final TransferCounter transfers = new TransferCounter();

    /**
     * @param name       the backend's name, which its buffers report as theirs
     * @param closedName what a call on the closed backend names, e.g. {@code "CUDA backend"}
     * @param bufferType the class of the buffers this backend allocates
     */
    protected CheckedBackend(String name, String closedName, DeviceInfo device, Class<B> bufferType) {
        this.name = name;
        this.closedName = closedName;
        this.device = device;
        this.bufferType = bufferType;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final DeviceInfo device() {
        return device;
    }

    @Override
    public final DeviceBuffer allocate(long bytes) {
        return whileOpen("allocate", () -> {
            if (bytes < 0) {
                throw InvalidInputException.argument("allocate", "negative size " + bytes);
            }
            return allocateChecked(bytes);
        });
    }

    @Override
    public final void upload(MemorySegment source, DeviceBuffer target, long offset, long bytes) {
        runWhileOpen("upload", () -> {
            BufferRanges.check("upload", target, offset, bytes);
            BufferRanges.checkHost("upload", source, bytes);
            uploadChecked(source, own(target, "upload"), offset, bytes);
        });
    }

    @Override
    public final void download(DeviceBuffer source, long offset, MemorySegment target, long bytes) {
        runWhileOpen("download", () -> {
            BufferRanges.check("download", source, offset, bytes);
            BufferRanges.checkHost("download", target, bytes);
            downloadChecked(own(source, "download"), offset, target, bytes);
        });
    }

    @Override
    public final void fill(DeviceBuffer target, long offset, long bytes, byte value) {
        runWhileOpen("fill", () -> {
            BufferRanges.check("fill", target, offset, bytes);
            fillChecked(own(target, "fill"), offset, bytes, value);
        });
    }

    @Override
    public final void synchronize() {
        checkOpen("synchronize");
        awaitDevice();
        transfers.synchronization();
    }

    @Override
    public final OpSet ops() {
        checkOpen("ops");
        return opSet();
    }

    @Override
    public final DeviceTimer newTimer() {
        checkOpen("newTimer");
        return timer();
    }

    @Override
    public final TransferStats transferStats() {
        return transfers.snapshot();
    }

    /** This backend's copy and synchronisation counts, for whatever copies on its behalf. */
    protected final TransferCounter transfers() {
        return transfers;
    }

    /**
     * Runs one call's work on an open backend. This one checks that it is open first; a backend whose close must wait
     * for calls in flight tracks them here.
     *
     * @throws ResourceClosedException naming {@code call} once the backend is closed
     */
    protected <T> T whileOpen(String call, Supplier<T> work) {
        checkOpen(call);
        return work.get();
    }

    /** @throws ResourceClosedException naming {@code call} once the backend is closed */
    protected final void checkOpen(String call) {
        if (isClosed()) {
            throw new ResourceClosedException(call, closedName);
        }
    }

    /** Allocates a buffer of a non-negative size. */
    protected abstract B allocateChecked(long bytes);

    /** Copies a checked host range into a checked range of one of this backend's buffers, counting the copy. */
    protected abstract void uploadChecked(MemorySegment source, B target, long offset, long bytes);

    /** Copies a checked range of one of this backend's buffers into a checked host range, counting the copy. */
    protected abstract void downloadChecked(B source, long offset, MemorySegment target, long bytes);

    protected abstract void fillChecked(B target, long offset, long bytes, byte value);

    /** Waits until all work issued so far has finished. */
    protected abstract void awaitDevice();

    protected abstract OpSet opSet();

    protected abstract DeviceTimer timer();

    private void runWhileOpen(String call, Runnable work) {
        whileOpen(call, () -> {
            work.run();
            return null;
        });
    }

    private B own(DeviceBuffer buffer, String call) {
        if (!bufferType.isInstance(buffer) || !buffer.backendName().equals(name)) {
            throw InvalidInputException.argument(call,
                    "buffer belongs to the " + buffer.backendName() + " backend, not " + name);
        }
        return bufferType.cast(buffer);
    }
}

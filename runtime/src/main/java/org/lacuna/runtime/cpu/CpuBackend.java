package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.function.Function;
import java.util.function.LongFunction;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.BufferRanges;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.backend.MemoryStats;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.backend.TransferStats;
import org.lacuna.runtime.memory.TransferCounter;
import org.lacuna.runtime.ops.OpSet;

/**
 * Runs every op on the JVM. Work is synchronous, so {@link #synchronize()} has nothing to wait for. Two backends share
 * this class and its memory: the serving one ({@code cpu}, fp32 kernels, {@link CpuOps}) and the double-precision
 * reference every test compares with ({@code cpu-reference}, {@link ReferenceOps}).
 */
final class CpuBackend implements Backend {
    private final String name;
    private final CpuMemoryAccounting accounting = new CpuMemoryAccounting();
    private final CpuSegmentPool pool = new CpuSegmentPool(accounting);
    private final TransferCounter transfers = new TransferCounter();
    private final CpuLifecycle lifecycle;
    private final OpSet ops;
    private final Runnable releaseOps;
    private final DeviceInfo device = new DeviceInfo(0, "JVM on " + System.getProperty("os.arch") + " ("
            + Runtime.getRuntime().availableProcessors() + " threads)", 0, Runtime.getRuntime().availableProcessors(),
            Runtime.getRuntime().maxMemory(), 0);

    /** The serving backend with its fp32 kernels. */
    static CpuBackend serving(CpuOptions options) {
        return new CpuBackend(CpuBackendProvider.NAME, memory -> {
            CpuOps ops = new CpuOps(options, memory);
            return new MadeOps(ops, ops::close);
        });
    }

    /** The double-precision reference. */
    static CpuBackend reference() {
        return new CpuBackend(ReferenceBackendProvider.NAME, memory -> {
            ReferenceOps ops = new ReferenceOps(ReferenceBackendProvider.NAME, memory);
            return new MadeOps(ops, ops::close);
        });
    }

    /** A backend's ops and what releases them when it closes. */
    private record MadeOps(OpSet ops, Runnable release) {
    }

    /**
     * @param makeOps makes the ops, given this backend's allocator for the ops that size their own outputs (the
     *                voxeliser's resident voxels)
     */
    private CpuBackend(String name, Function<LongFunction<DeviceBuffer>, MadeOps> makeOps) {
        this.name = name;
        this.lifecycle = new CpuLifecycle(name + " backend");
        MadeOps made = makeOps.apply(this::allocate);
        this.ops = new GuardedOpSet(made.ops(), lifecycle);
        this.releaseOps = made.release();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DeviceInfo device() {
        return device;
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        if (bytes < 0) {
            throw InvalidInputException.argument("allocate", "negative size " + bytes);
        }
        // In flight, so that a close waits for it: a buffer made during the close would outlive the pool.
        return lifecycle.call("allocate", () -> new CpuBuffer(bytes, name, pool, accounting));
    }

    @Override
    public void upload(MemorySegment source, DeviceBuffer target, long offset, long bytes) {
        lifecycle.run("upload", () -> {
            BufferRanges.check("upload", target, offset, bytes);
            BufferRanges.checkHost("upload", source, bytes);
            MemorySegment.copy(source, 0, cpuBuffer(target, "upload").segment("upload"), offset, bytes);
            transfers.upload(bytes);
        });
    }

    @Override
    public void download(DeviceBuffer source, long offset, MemorySegment target, long bytes) {
        lifecycle.run("download", () -> {
            BufferRanges.check("download", source, offset, bytes);
            BufferRanges.checkHost("download", target, bytes);
            MemorySegment.copy(cpuBuffer(source, "download").readSegment("download"), offset, target, 0, bytes);
            transfers.download(bytes);
        });
    }

    @Override
    public void fill(DeviceBuffer target, long offset, long bytes, byte value) {
        lifecycle.run("fill", () -> {
            BufferRanges.check("fill", target, offset, bytes);
            cpuBuffer(target, "fill").segment("fill").asSlice(offset, bytes).fill(value);
        });
    }

    @Override
    public void synchronize() {
        checkOpen("synchronize");
        transfers.synchronization();
    }

    @Override
    public OpSet ops() {
        checkOpen("ops");
        return ops;
    }

    @Override
    public DeviceTimer newTimer() {
        checkOpen("newTimer");
        return DeviceTimer.hostClock();
    }

    @Override
    public MemoryStats memoryStats() {
        return accounting.snapshot();
    }

    @Override
    public TransferStats transferStats() {
        return transfers.snapshot();
    }

    @Override
    public boolean isClosed() {
        return lifecycle.isClosed();
    }

    @Override
    public void close() {
        if (lifecycle.close()) {
            try {
                releaseOps.run();
            } finally {
                try {
                    accounting.releaseAll();
                } finally {
                    pool.close();
                }
            }
        }
    }

    private CpuBuffer cpuBuffer(DeviceBuffer buffer, String call) {
        if (!(buffer instanceof CpuBuffer cpu) || !buffer.backendName().equals(name)) {
            throw InvalidInputException.argument(call, "buffer belongs to the " + buffer.backendName() + " backend, not " + name);
        }
        return cpu;
    }

    private void checkOpen(String call) {
        if (lifecycle.isClosed()) {
            throw new ResourceClosedException(call, name + " backend");
        }
    }
}

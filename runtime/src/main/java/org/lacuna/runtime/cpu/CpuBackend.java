package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import org.lacuna.runtime.Backend;
import org.lacuna.runtime.BufferRanges;
import org.lacuna.runtime.DeviceBuffer;
import org.lacuna.runtime.DeviceInfo;
import org.lacuna.runtime.DeviceTimer;
import org.lacuna.runtime.InvalidInputException;
import org.lacuna.runtime.MemoryStats;
import org.lacuna.runtime.ResourceClosedException;
import org.lacuna.runtime.ops.OpSet;

/** Runs every op on the JVM. Work is synchronous, so {@link #synchronize()} has nothing to wait for. */
final class CpuBackend implements Backend {
    private final CpuMemoryAccounting accounting = new CpuMemoryAccounting();
    private final CpuOps ops = new CpuOps();
    private final DeviceInfo device = new DeviceInfo(0, "JVM on " + System.getProperty("os.arch") + " ("
            + Runtime.getRuntime().availableProcessors() + " threads)", 0, Runtime.getRuntime().availableProcessors(),
            Runtime.getRuntime().maxMemory(), 0);
    private final AtomicBoolean closed = new AtomicBoolean();

    @Override
    public String name() {
        return CpuBackendProvider.NAME;
    }

    @Override
    public DeviceInfo device() {
        return device;
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        checkOpen("allocate");
        if (bytes < 0) {
            throw InvalidInputException.argument("allocate", "negative size " + bytes);
        }
        return new CpuBuffer(bytes, accounting);
    }

    @Override
    public void upload(MemorySegment source, DeviceBuffer target, long offset, long bytes) {
        checkOpen("upload");
        BufferRanges.check("upload", target, offset, bytes);
        BufferRanges.checkHost("upload", source, bytes);
        MemorySegment.copy(source, 0, buffer(target, "upload"), offset, bytes);
    }

    @Override
    public void download(DeviceBuffer source, long offset, MemorySegment target, long bytes) {
        checkOpen("download");
        BufferRanges.check("download", source, offset, bytes);
        BufferRanges.checkHost("download", target, bytes);
        MemorySegment.copy(buffer(source, "download"), offset, target, 0, bytes);
    }

    @Override
    public void fill(DeviceBuffer target, long offset, long bytes, byte value) {
        checkOpen("fill");
        BufferRanges.check("fill", target, offset, bytes);
        buffer(target, "fill").asSlice(offset, bytes).fill(value);
    }

    @Override
    public void synchronize() {
        checkOpen("synchronize");
    }

    @Override
    public OpSet ops() {
        checkOpen("ops");
        return ops;
    }

    @Override
    public DeviceTimer newTimer() {
        checkOpen("newTimer");
        return new DeviceTimer() {
            private long start;

            @Override
            public void start() {
                start = System.nanoTime();
            }

            @Override
            public double stopMillis() {
                return (System.nanoTime() - start) / 1e6;
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public MemoryStats memoryStats() {
        return accounting.snapshot();
    }

    @Override
    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            accounting.releaseAll();
        }
    }

    private static MemorySegment buffer(DeviceBuffer buffer, String call) {
        if (!(buffer instanceof CpuBuffer cpu)) {
            throw InvalidInputException.argument(call, "buffer belongs to the " + buffer.backendName() + " backend, not cpu");
        }
        return cpu.segment(call);
    }

    private void checkOpen(String call) {
        if (closed.get()) {
            throw new ResourceClosedException(call, "CPU backend");
        }
    }
}

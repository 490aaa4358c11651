package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.backend.MemoryStats;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.internal.backend.CheckedBackend;
import org.lacuna.runtime.ops.OpSet;

/**
 * Runs every op on the JVM. Work is synchronous, so {@link #synchronize()} has nothing to wait for. Two backends share
 * this class and its memory: the serving one ({@code cpu}, fp32 kernels, {@link CpuOps}) and the double-precision
 * reference every test compares with ({@code cpu-reference}, {@link ReferenceOps}).
 */
final class CpuBackend extends CheckedBackend<CpuBuffer> {
    private final CpuMemoryAccounting accounting = new CpuMemoryAccounting();
    private final CpuSegmentPool pool = new CpuSegmentPool(accounting);
    private final CpuLifecycle lifecycle;
    private final OpSet ops;
    private final Runnable releaseOps;

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
        int threads = Runtime.getRuntime().availableProcessors();
        super(name, name + " backend", new DeviceInfo(0, "JVM on " + System.getProperty("os.arch") + " (" + threads
                + " threads)", 0, threads, Runtime.getRuntime().maxMemory(), 0), CpuBuffer.class);
        this.lifecycle = new CpuLifecycle(name + " backend");
        MadeOps made = makeOps.apply(this::allocate);
        this.ops = new GuardedOpSet(made.ops(), lifecycle);
        this.releaseOps = made.release();
    }

    /** In flight, so that a close waits for it: a buffer made or copied during the close would outlive the pool. */
    @Override
    protected <T> T whileOpen(String call, Supplier<T> work) {
        return lifecycle.call(call, work);
    }

    @Override
    protected CpuBuffer allocateChecked(long bytes) {
        return new CpuBuffer(bytes, name(), pool, accounting);
    }

    @Override
    protected void uploadChecked(MemorySegment source, CpuBuffer target, long offset, long bytes) {
        MemorySegment.copy(source, 0, target.segment("upload"), offset, bytes);
        transfers().upload(bytes);
    }

    @Override
    protected void downloadChecked(CpuBuffer source, long offset, MemorySegment target, long bytes) {
        MemorySegment.copy(source.readSegment("download"), offset, target, 0, bytes);
        transfers().download(bytes);
    }

    @Override
    protected void fillChecked(CpuBuffer target, long offset, long bytes, byte value) {
        target.segment("fill").asSlice(offset, bytes).fill(value);
    }

    /** Work is synchronous: nothing to wait for. */
    @Override
    protected void awaitDevice() {
    }

    @Override
    protected OpSet opSet() {
        return ops;
    }

    @Override
    protected DeviceTimer timer() {
        return DeviceTimer.hostClock();
    }

    @Override
    public MemoryStats memoryStats() {
        return accounting.snapshot();
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
}

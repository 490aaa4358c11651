package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUstream_flags;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.backend.MemoryStats;
import org.lacuna.runtime.compile.KernelCompiler;
import org.lacuna.runtime.internal.backend.CheckedBackend;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.memory.CachingPool;
import org.lacuna.runtime.ops.OpSet;

/**
 * One GPU: its primary context, one non-blocking stream, a caching memory pool, pinned staging for copies and the
 * kernels loaded so far. Closing waits for the stream and frees all of it, in the reverse order of creation.
 */
final class CudaBackend extends CheckedBackend<CudaBuffer> {
    private final CudaContext context;
    private final StreamHandle stream = new StreamHandle();
    private final CachingPool pool;
    private final PinnedStaging staging;
    private final KernelModules modules;
    private final CudaLibraries libraries;
    private final CudaOps ops;
    private final ClosedFlag closed = new ClosedFlag();

    CudaBackend(int ordinal, KernelCompiler compiler) {
        CUdevice handle = new CUdevice();
        CudaCalls.check("cuDeviceGet", cuDeviceGet(handle, ordinal));
        super(CudaBackendProvider.NAME, "CUDA backend", describe(ordinal, handle), CudaBuffer.class);
        Closer opened = new Closer("CudaBackend");
        try {
            context = opened.register(new CudaContext(handle));
            CudaCalls.check("cuStreamCreate", cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING));
            opened.register(() -> cuStreamDestroy(stream));
            pool = opened.register(new CachingPool(new CudaAllocator(context)));
            staging = opened.register(new PinnedStaging(context, transfers()));
            modules = opened.register(new KernelModules(context, compiler, device().targetArchitecture()));
            libraries = opened.register(new CudaLibraries(context));
            ops = new CudaOps(modules, stream, device(), libraries, pool, staging);
        } catch (RuntimeException e) {
            throw opened.closeAfter(e);
        }
    }

    private static DeviceInfo describe(int ordinal, CUdevice handle) {
        byte[] name = new byte[256];
        CudaCalls.check("cuDeviceGetName", cuDeviceGetName(name, name.length, handle));
        int length = 0;
        while (length < name.length && name[length] != 0) {
            length++;
        }
        long[] memory = {0};
        CudaCalls.check("cuDeviceTotalMem", cuDeviceTotalMem(memory, handle));
        int[] driver = {0};
        CudaCalls.check("cuDriverGetVersion", cuDriverGetVersion(driver));
        return new DeviceInfo(ordinal, new String(name, 0, length, StandardCharsets.UTF_8),
                attribute(handle, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) * 10
                        + attribute(handle, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                attribute(handle, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), memory[0], driver[0]);
    }

    private static int attribute(CUdevice handle, int attribute) {
        int[] value = {0};
        CudaCalls.check("cuDeviceGetAttribute", cuDeviceGetAttribute(value, attribute, handle));
        return value[0];
    }

    @Override
    protected CudaBuffer allocateChecked(long bytes) {
        return new CudaBuffer(pool, pool.acquire(bytes), bytes);
    }

    @Override
    protected void uploadChecked(MemorySegment source, CudaBuffer target, long offset, long bytes) {
        staging.upload(source, target.address("upload") + offset, bytes, stream);
    }

    @Override
    protected void downloadChecked(CudaBuffer source, long offset, MemorySegment target, long bytes) {
        staging.download(source.address("download") + offset, target, bytes, stream);
    }

    @Override
    protected void fillChecked(CudaBuffer target, long offset, long bytes, byte value) {
        context.makeCurrent();
        CudaCalls.check("cuMemsetD8Async", cuMemsetD8Async(target.pointer("fill", offset), value, bytes, stream));
    }

    @Override
    protected void awaitDevice() {
        context.makeCurrent();
        CudaCalls.check("cuStreamSynchronize", cuStreamSynchronize(stream));
    }

    @Override
    protected OpSet opSet() {
        return ops;
    }

    @Override
    protected DeviceTimer timer() {
        return new CudaEventTimer(context, stream);
    }

    @Override
    public MemoryStats memoryStats() {
        return pool.stats();
    }

    @Override
    public boolean isClosed() {
        return closed.isClosed();
    }

    @Override
    public synchronized void close() {
        if (!closed.markClosed()) {
            return;
        }
        // Kernels may still be reading pooled memory: drain the stream before anything is freed. The coordinate
        // sets' keys and maps go back to the pool first, so the pool frees them with the rest.
        context.closeAllCurrent("CudaBackend", () -> cuStreamSynchronize(stream), ops::releaseResidency, libraries,
                modules, staging, pool, () -> cuStreamDestroy(stream), context);
    }
}

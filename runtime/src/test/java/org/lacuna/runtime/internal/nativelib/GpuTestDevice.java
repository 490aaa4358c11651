package org.lacuna.runtime.internal.nativelib;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Assumptions;

/**
 * Device 0's primary context and device memory through JCuda's driver API, for GPU tests. {@link #openOrSkip()}
 * skips the calling test (class) cleanly when there is no libcuda, no device, or the driver will not initialise.
 */
public final class GpuTestDevice implements AutoCloseable {
    private final CUdevice device;
    private final CUcontext context;
    private final Map<Long, Allocation> allocations = new LinkedHashMap<>();
    private boolean closed;

    private GpuTestDevice(CUdevice device, CUcontext context) {
        this.device = device;
        this.context = context;
    }

    public static GpuTestDevice openOrSkip() {
        // libcuda is found and loaded by path first, so JCuda's driver JNI library never fails to link (which would
        // leave its class unusable for the rest of the JVM) and a libcuda outside the loader's path still serves.
        SearchResult<LoadedLibrary> driver = new NativeLibrarySearch(SearchEnvironment.system())
                .search(LibrarySpec.CUDA_DRIVER, candidate -> NativeLoader.load("cuda", candidate.file()));
        Assumptions.assumeTrue(driver.isFound(), () -> "no GPU driver: " + driver.failureMessage());
        try {
            JCudaDriver.setExceptionsEnabled(false);
            int init = JCudaDriver.cuInit(0);
            Assumptions.assumeTrue(init == CUresult.CUDA_SUCCESS, () -> "cuInit: " + CUresult.stringFor(init));
            int[] count = {0};
            check("cuDeviceGetCount", JCudaDriver.cuDeviceGetCount(count));
            Assumptions.assumeTrue(count[0] > 0, "no CUDA device");
            CUdevice device = new CUdevice();
            check("cuDeviceGet", JCudaDriver.cuDeviceGet(device, 0));
            CUcontext context = new CUcontext();
            check("cuDevicePrimaryCtxRetain", JCudaDriver.cuDevicePrimaryCtxRetain(context, device));
            GpuTestDevice gpu = new GpuTestDevice(device, context);
            gpu.makeCurrent();
            return gpu;
        } catch (LinkageError e) {
            Assumptions.abort("JCuda's driver binding cannot load: " + Failures.describe(e));
            throw e;
        }
    }

    /** Makes the primary context current on the calling thread (cuBLAS and cuSPARSE handles live in it). */
    public void makeCurrent() {
        check("cuCtxSetCurrent", JCudaDriver.cuCtxSetCurrent(context));
    }

    /** Device memory, freed by {@link #free(long)} or {@link #close()}. */
    public long allocate(long bytes) {
        Allocation allocation = new Allocation();
        check("cuMemAlloc", JCudaDriver.cuMemAlloc(allocation, Math.max(1, bytes)));
        allocations.put(allocation.address(), allocation);
        return allocation.address();
    }

    public long upload(byte[] bytes) {
        long address = allocate(bytes.length);
        check("cuMemcpyHtoD", JCudaDriver.cuMemcpyHtoD(allocation(address), Pointer.to(bytes), bytes.length));
        return address;
    }

    public byte[] download(long address, int bytes) {
        byte[] host = new byte[bytes];
        check("cuCtxSynchronize", JCudaDriver.cuCtxSynchronize());
        check("cuMemcpyDtoH", JCudaDriver.cuMemcpyDtoH(Pointer.to(host), allocation(address), bytes));
        return host;
    }

    /** Sets every byte of an allocation's first {@code bytes} to {@code value}. */
    public void fill(long address, int value, long bytes) {
        check("cuMemsetD8", JCudaDriver.cuMemsetD8(allocation(address), (byte) value, bytes));
    }

    public void free(long address) {
        Allocation allocation = allocations.remove(address);
        if (allocation != null) {
            check("cuMemFree", JCudaDriver.cuMemFree(allocation));
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Long> live = new ArrayList<>(allocations.keySet());
        live.forEach(this::free);
        check("cuDevicePrimaryCtxRelease", JCudaDriver.cuDevicePrimaryCtxRelease(device));
    }

    private Allocation allocation(long address) {
        Allocation allocation = allocations.get(address);
        if (allocation == null) {
            throw new IllegalArgumentException("no live allocation at 0x" + Long.toHexString(address));
        }
        return allocation;
    }

    private static void check(String call, int status) {
        if (status != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException(call + ": " + CUresult.stringFor(status));
        }
    }

    /** A CUdeviceptr that tells its address (JCuda keeps it protected). */
    private static final class Allocation extends CUdeviceptr {
        long address() {
            return getNativePointer();
        }
    }
}

package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemsetD8Async;

import org.lacuna.runtime.memory.CachingPool;
import org.lacuna.runtime.ops.ElementwiseOps;

/**
 * What an op family that keeps intermediate results on the device works with (sparse convolution, voxelisation): the
 * loaded kernels, the backend's stream, its memory pool for temporaries and outputs, pinned staging for the few copies
 * and size reads, the multiprocessor count that sizes grid-stride launches, and the elementwise ops for the epilogues.
 */
abstract class PooledCudaOps {
    protected final KernelModules modules;
    protected final StreamHandle stream;
    protected final CachingPool pool;
    protected final PinnedStaging staging;
    protected final int multiprocessors;
    protected final ElementwiseOps elementwise;

    PooledCudaOps(KernelModules modules, StreamHandle stream, CachingPool pool, PinnedStaging staging,
                  int multiprocessors, ElementwiseOps elementwise) {
        this.modules = modules;
        this.stream = stream;
        this.pool = pool;
        this.staging = staging;
        this.multiprocessors = multiprocessors;
        this.elementwise = elementwise;
    }

    /** Device memory that outlives the call's workspace: a result, a table, or a set's keys. */
    protected CudaBuffer persistent(long bytes) {
        return new CudaBuffer(pool, pool.acquire(Math.max(bytes, 16)), Math.max(bytes, 16));
    }

    /**
     * The shared device radix sort ({@link RadixSortLaunches}, the copy compiled into {@code file} with BLOCK =
     * {@code block}) of {@code count} 64-bit keys at {@code keys} on their low {@code bytes} bytes, ties in input
     * order: the sorted keys into {@code keysOut}, their input indices into {@code indicesOut}, scratch from the
     * call's workspace. The input is left as it is.
     */
    protected void radixSort(String file, int block, CallWorkspace workspace, long keys, long count, int bytes,
                             long keysOut, long indicesOut) {
        for (KernelLaunch launch : new RadixSortLaunches(file, block, (long) multiprocessors * 8).sort(
                (name, size) -> workspace.acquire(size), keys, 0L, count, bytes, keysOut, indicesOut)) {
            modules.launch(launch, stream);
        }
    }

    /** Sets {@code bytes} bytes at {@code address} to {@code value}, on the stream. */
    protected void memset(long address, byte value, long bytes) {
        CudaCalls.check("cuMemsetD8Async", cuMemsetD8Async(DevicePointer.at(address), value, bytes, stream));
    }
}

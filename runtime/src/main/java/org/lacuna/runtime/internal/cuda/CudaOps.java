package org.lacuna.runtime.internal.cuda;

import java.util.Map;
import jcuda.driver.CUdeviceptr;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.internal.sparse.SparseBinding;
import org.lacuna.runtime.memory.CachingPool;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.OpContracts;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.ops.TwoFourWeight;

/** The ops on the GPU: each a specialisation of a shipped kernel, launched on the backend's stream. */
final class CudaOps implements OpSet {
    private static final int BLOCK = 256;
    /** Grid-stride kernels need no more blocks than keep every SM busy. */
    private static final int BLOCKS_PER_SM = 8;

    private final KernelModules modules;
    private final StreamHandle stream;
    private final int multiprocessors;
    private final CudaLibraries libraries;
    private final CachingPool pool;
    private final int computeCapability;
    private final CudaConvolutionOps convolution;

    CudaOps(KernelModules modules, StreamHandle stream, org.lacuna.runtime.backend.DeviceInfo device, CudaLibraries libraries,
            CachingPool pool, PinnedStaging staging) {
        this.modules = modules;
        this.stream = stream;
        this.multiprocessors = device.multiprocessors();
        this.computeCapability = device.computeCapability();
        this.libraries = libraries;
        this.pool = pool;
        this.convolution = new CudaConvolutionOps(modules, stream, device, pool, staging);
    }

    @Override
    public org.lacuna.runtime.ops.ConvolutionOps convolution() {
        return convolution;
    }

    @Override
    public org.lacuna.runtime.ops.AttentionOps attention() {
        return new CudaAttentionOps(modules, stream, multiprocessors);
    }

    @Override
    public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        OpContracts.biasActivation(CudaBackendProvider.NAME, x, bias, activation, y);
        long count = x.elementCount();
        if (count == 0) {
            return;
        }
        var function = modules.function("bias_activation.cu", Map.of("T_IN", x.dtype().kernelName(),
                "T_OUT", y.dtype().kernelName(), "ACT", activation.kernelName(), "BLOCK", Integer.toString(BLOCK)),
                "bias_activation");
        CUdeviceptr biasPointer = bias == null ? new CUdeviceptr() : pointer(bias, "biasActivation");
        KernelArguments parameters = new KernelArguments().pointer(pointer(x, "biasActivation")).pointer(biasPointer)
                .pointer(pointer(y, "biasActivation")).i64(x.shape().rows()).i64(x.shape().columns());
        modules.launch("bias_activation", function, gridFor(count), BLOCK, 0, stream, parameters);
    }

    @Override
    public void cast(DeviceArray x, DeviceArray y) {
        OpContracts.cast(CudaBackendProvider.NAME, x, y);
        long count = x.elementCount();
        if (count == 0) {
            return;
        }
        var function = modules.function("cast.cu", Map.of("T_IN", x.dtype().kernelName(),
                "T_OUT", y.dtype().kernelName(), "BLOCK", Integer.toString(BLOCK)), "cast");
        KernelArguments parameters = new KernelArguments().pointer(pointer(x, "cast")).pointer(pointer(y, "cast"))
                .i64(count);
        modules.launch("cast", function, gridFor(count), BLOCK, 0, stream, parameters);
    }

    @Override
    public void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
        OpContracts.rowReduce(CudaBackendProvider.NAME, x, reduction, out);
        long rows = x.shape().rows();
        if (rows == 0) {
            return;
        }
        var function = modules.function("row_reduce.cu", Map.of("T_IN", x.dtype().kernelName(),
                "OP", reduction.kernelName(), "BLOCK", Integer.toString(BLOCK)), "row_reduce");
        KernelArguments parameters = new KernelArguments().pointer(pointer(x, "rowReduce"))
                .pointer(pointer(out, "rowReduce")).i64(rows).i64(x.shape().columns());
        modules.launch("row_reduce", function, Math.min(rows, (long) multiprocessors * 32), BLOCK, 0, stream, parameters);
    }

    @Override
    public void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        OpContracts.linearTwoFour(CudaBackendProvider.NAME, x, w, bias, activation, y);
        long tokens = x.shape().rows();
        if (tokens == 0) {
            return;
        }
        if (tokens > Integer.MAX_VALUE) {
            throw new org.lacuna.runtime.error.NotSupportedException("linearTwoFour", tokens + " tokens exceed 2^31-1");
        }
        // The weight tiles always load with 16-byte cp.async; DeviceWeights places them at offset 0, a hand-made view
        // might not.
        if (address(w.values(), "linearTwoFour") % 16 != 0 || address(w.metadata(), "linearTwoFour") % 16 != 0) {
            throw org.lacuna.runtime.error.InvalidInputException.argument("linearTwoFour",
                    "the 2:4 values and metadata must start on 16-byte boundaries");
        }
        boolean wgmma = SparseGemmTiling.useWarpgroupKernel(computeCapability, tokens);
        int blockN = wgmma ? SparseGemmTiling.BLOCK_N_SM90 : SparseGemmTiling.blockN(tokens);
        Map<String, String> constants = new java.util.HashMap<>(Map.of("T_IN", x.dtype().kernelName(),
                "T_OUT", y.dtype().kernelName(), "ACT", activation.kernelName(),
                "K_ALIGNED", w.in() % 8 == 0 && address(x, "linearTwoFour") % 16 == 0 ? "1" : "0"));
        if (!wgmma) {
            constants.put("BN", Integer.toString(blockN));
        }
        String kernel = wgmma ? "sparse24_gemm_sm90" : "sparse24_gemm";
        var function = modules.function(kernel + ".cu", constants, kernel);
        int shared = SparseGemmTiling.sharedBytes(blockN);
        modules.allowDynamicShared(kernel, function, shared);
        KernelArguments parameters = new KernelArguments().pointer(pointer(x, "linearTwoFour"))
                .pointer(pointer(w.values(), "linearTwoFour")).pointer(pointer(w.metadata(), "linearTwoFour"))
                .pointer(bias == null ? null : pointer(bias, "linearTwoFour")).pointer(pointer(y, "linearTwoFour"))
                .i32((int) tokens).i32(w.out()).i32(w.in()).i32(w.paddedOut()).i32(w.paddedIn());
        modules.launch(kernel, function, LaunchGrid.blocks(tokens, blockN),
                w.paddedOut() / SparseGemmTiling.BLOCK_M, SparseGemmTiling.THREADS, shared, stream, parameters);
    }

    @Override
    public void linearDense(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
        OpContracts.linearDense(CudaBackendProvider.NAME, x, w, bias, activation, y);
        int tokens = Math.toIntExact(x.shape().rows());
        int out = Math.toIntExact(w.shape().dim(0));
        int in = Math.toIntExact(w.shape().dim(1));
        if (tokens == 0) {
            return;
        }
        try (LibraryOutput target = libraryOutput(x, y)) {
            // Column-major cuBLAS view of row-major data: Yᵀ[out×tokens] = W[in×out]ᵀ · Xᵀ[in×tokens].
            libraries.blas().gemmEx(stream.address(), true, false, out, tokens, in, 1f,
                    address(w, "linearDense"), w.dtype(), in, address(x, "linearDense"), x.dtype(), in,
                    0f, address(target.array(), "linearDense"), target.array().dtype(), out);
            finish(target.array(), bias, activation, y);
        }
    }

    @Override
    public void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        OpContracts.linearCsr(CudaBackendProvider.NAME, x, w, bias, activation, y);
        int tokens = Math.toIntExact(x.shape().rows());
        if (tokens == 0) {
            return;
        }
        java.util.List<CachingPool.Block> workspace = new java.util.ArrayList<>();
        try (LibraryOutput target = libraryOutput(x, y)) {
            // C = W·B with B = Xᵀ and C = Yᵀ, both column-major: exactly X and Y as stored, no transposes.
            libraries.sparse().spmmCsr(stream.address(), w.out(), tokens, w.in(), w.nonZeros(),
                    address(w.rowOffsets(), "linearCsr"), address(w.columns(), "linearCsr"),
                    address(w.values(), "linearCsr"), w.values().dtype(), address(x, "linearCsr"), x.dtype(),
                    address(target.array(), "linearCsr"), target.array().dtype(), SparseBinding.DenseOrder.COLUMN_MAJOR,
                    1f, 0f,
                    bytes -> {
                        CachingPool.Block block = pool.acquire(bytes);
                        workspace.add(block);
                        return block.address();
                    });
            finish(target.array(), bias, activation, y);
        } finally {
            // Safe to recycle at once: anything that reuses the block is issued later on the same stream.
            workspace.forEach(pool::release);
        }
    }

    /**
     * Where a library GEMM writes: y itself when the libraries take (x, y)'s type pair (same type, or fp32 out),
     * else an fp32 scratch that {@link #finish} converts — cuBLAS and cuSPARSE reject e.g. F16 in, BF16 out.
     */
    private LibraryOutput libraryOutput(DeviceArray x, DeviceArray y) {
        if (y.dtype() == x.dtype() || y.dtype() == org.lacuna.runtime.data.DType.F32) {
            return new LibraryOutput(y, null);
        }
        long bytes = y.elementCount() * 4;
        CudaBuffer scratch = new CudaBuffer(pool, pool.acquire(bytes), bytes);
        return new LibraryOutput(new DeviceArray(scratch, 0, org.lacuna.runtime.data.DType.F32, y.shape()), scratch);
    }

    /** A library GEMM's output and the scratch behind it, released (stream-ordered) when done. */
    private record LibraryOutput(DeviceArray array, CudaBuffer scratch) implements AutoCloseable {
        @Override
        public void close() {
            if (scratch != null) {
                scratch.close();
            }
        }
    }

    /** Bias, activation and the output type after a library GEMM (the fused kernels do this in registers). */
    private void finish(DeviceArray computed, DeviceArray bias, Activation activation, DeviceArray y) {
        if (computed == y && bias == null && activation == Activation.NONE) {
            return;
        }
        biasActivation(computed, bias, activation, y);
    }

    private static long address(DeviceArray array, String call) {
        return ((CudaBuffer) array.buffer()).address(call) + array.byteOffset();
    }

    private long gridFor(long elements) {
        return LaunchGrid.gridStride(elements, BLOCK, (long) multiprocessors * BLOCKS_PER_SM);
    }

    private static CUdeviceptr pointer(DeviceArray array, String call) {
        return ((CudaBuffer) array.buffer()).pointer(call, array.byteOffset());
    }
}

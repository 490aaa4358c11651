package org.lacuna.runtime.internal.cuda;

import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.internal.sparse.SparseBinding;
import org.lacuna.runtime.memory.CachingPool;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.GemmContracts;
import org.lacuna.runtime.ops.GemmOps;
import org.lacuna.runtime.ops.TwoFourWeight;

/**
 * The GEMM family on the GPU: dense weights through cuBLAS, 2:4 weights through the sparse tensor-core kernels
 * ({@code two_four_gemm.cu}, {@code two_four_gemm_sm90.cu}), CSR weights through cuSPARSE SpMM; the libraries'
 * epilogue (bias, activation, output type) runs as the elementwise family's bias-activation op.
 */
final class CudaGemmOps implements GemmOps {
    private final KernelModules modules;
    private final StreamHandle stream;
    private final CudaLibraries libraries;
    private final CachingPool pool;
    final int computeCapability;
    /** The wgmma.sp opt-in, read when the backend opens. */
    final boolean warpgroupSparse = TwoFourGemmTiling.warpgroupKernelEnabled();
    private final ElementwiseOps elementwise;

    CudaGemmOps(KernelModules modules, StreamHandle stream, org.lacuna.runtime.backend.DeviceInfo device,
                CudaLibraries libraries, CachingPool pool, ElementwiseOps elementwise) {
        this.modules = modules;
        this.stream = stream;
        this.computeCapability = device.computeCapability();
        this.libraries = libraries;
        this.pool = pool;
        this.elementwise = elementwise;
    }

    @Override
    public void linearDense(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
        GemmContracts.linearDense(CudaBackendProvider.NAME, x, w, bias, activation, y);
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
    public void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        linearTwoFour(x, w, bias, activation, y,
                TwoFourGemmTiling.useWarpgroupKernel(computeCapability, warpgroupSparse, x.shape().rows()));
    }

    /** The 2:4 linear on the kernel asked for: {@code wgmma.sp} (sm_90a) or {@code mma.sp}. */
    void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation, DeviceArray y,
                       boolean wgmma) {
        GemmContracts.linearTwoFour(CudaBackendProvider.NAME, x, w, bias, activation, y);
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
        boolean kAligned = w.in() % 8 == 0 && address(x, "linearTwoFour") % 16 == 0;
        KernelLaunch launch = TwoFourLaunches.launch(LaunchOperands.DEVICE_ADDRESSES, x, w, bias, activation, y,
                TwoFourLaunches.Variant.of(wgmma, tokens, kAligned));
        modules.launch(launch, stream);
    }

    @Override
    public void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        GemmContracts.linearCsr(CudaBackendProvider.NAME, x, w, bias, activation, y);
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
        elementwise.biasActivation(computed, bias, activation, y);
    }

    private static long address(DeviceArray array, String call) {
        return ((CudaBuffer) array.buffer()).address(call) + array.byteOffset();
    }
}

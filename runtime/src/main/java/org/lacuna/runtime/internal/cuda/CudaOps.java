package org.lacuna.runtime.internal.cuda;

import org.lacuna.runtime.ops.OpFamilies;
import java.util.List;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.schedule.OpPaths;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.memory.CachingPool;

/** The op families on the GPU: each a specialisation of shipped kernels or a library call, on the backend's stream. */
final class CudaOps extends OpFamilies implements OpPaths {
    static final String CUBLAS = "cublas";
    static final String MMA_SP = "mma.sp";
    static final String WGMMA_SP = "wgmma.sp";

    private final CudaGemmOps gemm;
    private final CudaConvolutionOps convolution;

    CudaOps(KernelModules modules, StreamHandle stream, DeviceInfo device, CudaLibraries libraries, CachingPool pool,
            PinnedStaging staging) {
        KernelStream kernels = new KernelStream(modules, stream);
        CudaElementwiseOps elementwise = new CudaElementwiseOps(kernels, device.multiprocessors());
        CudaGemmOps gemm = new CudaGemmOps(modules, stream, device, libraries, pool, elementwise);
        CudaConvolutionOps convolution = new CudaConvolutionOps(modules, stream, device, pool, staging, elementwise);
        this.gemm = gemm;
        this.convolution = convolution;
        super(elementwise, gemm, new CudaAttentionOps(kernels, device.multiprocessors()), convolution,
                new CudaVoxelizationOps(modules, stream, pool, staging, device.multiprocessors(),
                        elementwise));
    }

    /** Drops the convolution's state from the coordinate sets (the backend closes, before its pool). */
    void releaseResidency() {
        convolution.close();
    }

    @Override
    public List<String> denseLinearPaths() {
        return List.of(CUBLAS);
    }

    @Override
    public void linearDense(String path, DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation,
                            DeviceArray y) {
        if (!path.equals(CUBLAS)) {
            throw new NotSupportedException("linearDense", "no dense path '" + path + "' on the CUDA backend; it has "
                    + CUBLAS);
        }
        gemm.linearDense(x, w, bias, activation, y);
    }

    /**
     * mma.sp always; wgmma.sp where it may serve these tokens (Hopper, a full tile, and opted in until a recorded GPU
     * run validates it: {@link TwoFourGemmTiling#useWarpgroupKernel}).
     */
    @Override
    public List<String> twoFourPaths(long tokens) {
        return TwoFourGemmTiling.useWarpgroupKernel(gemm.computeCapability, gemm.warpgroupSparse, tokens)
                ? List.of(MMA_SP, WGMMA_SP)
                : List.of(MMA_SP);
    }

    @Override
    public void linearTwoFour(String path, DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation,
                              DeviceArray y) {
        boolean wgmma = switch (path) {
            case MMA_SP -> false;
            case WGMMA_SP -> true;
            default -> throw new NotSupportedException("linearTwoFour", "no 2:4 path '" + path
                    + "'; the CUDA backend has " + MMA_SP + " and " + WGMMA_SP);
        };
        if (wgmma && !TwoFourGemmTiling.useWarpgroupKernel(gemm.computeCapability, gemm.warpgroupSparse,
                x.shape().rows())) {
            throw new NotSupportedException("linearTwoFour", WGMMA_SP + " does not serve " + x.shape().rows()
                    + " tokens on sm_" + gemm.computeCapability + " (see lacuna.wgmmaSparse)");
        }
        gemm.linearTwoFour(x, w, bias, activation, y, wgmma);
    }

    @Override
    public List<String> convolutionPaths() {
        return CudaConvolutionOps.PATHS;
    }

    @Override
    public void sparseConvolution(String path, DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                                  Activation activation, DeviceArray y) {
        convolution.sparseConvolution(path, x, map, weights, bias, activation, y);
    }
}

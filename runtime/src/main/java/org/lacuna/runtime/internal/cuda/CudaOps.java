package org.lacuna.runtime.internal.cuda;

import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.memory.CachingPool;
import org.lacuna.runtime.ops.AttentionOps;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.GemmOps;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.VoxelizationOps;

/** The op families on the GPU: each a specialisation of shipped kernels or a library call, on the backend's stream. */
final class CudaOps implements OpSet {
    private final CudaElementwiseOps elementwise;
    private final CudaGemmOps gemm;
    private final CudaAttentionOps attention;
    private final CudaConvolutionOps convolution;
    private final CudaVoxelizationOps voxelization;

    CudaOps(KernelModules modules, StreamHandle stream, DeviceInfo device, CudaLibraries libraries, CachingPool pool,
            PinnedStaging staging) {
        this.elementwise = new CudaElementwiseOps(modules, stream, device.multiprocessors());
        this.gemm = new CudaGemmOps(modules, stream, device, libraries, pool, elementwise);
        this.attention = new CudaAttentionOps(modules, stream, device.multiprocessors());
        this.convolution = new CudaConvolutionOps(modules, stream, device, pool, staging, elementwise);
        this.voxelization = new CudaVoxelizationOps(modules, stream, pool, staging, device.multiprocessors());
    }

    @Override
    public ElementwiseOps elementwise() {
        return elementwise;
    }

    @Override
    public GemmOps gemm() {
        return gemm;
    }

    @Override
    public AttentionOps attention() {
        return attention;
    }

    @Override
    public ConvolutionOps convolution() {
        return convolution;
    }

    @Override
    public VoxelizationOps voxelization() {
        return voxelization;
    }
}

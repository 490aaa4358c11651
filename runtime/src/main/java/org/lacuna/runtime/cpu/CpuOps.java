package org.lacuna.runtime.cpu;

import java.util.List;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.schedule.OpPaths;
import org.lacuna.runtime.ops.AttentionOps;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.GemmOps;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.VoxelizationOps;

/**
 * The serving CPU ops: fp32 arithmetic (16-bit storage widened in registers), Vector API kernels where the JVM
 * allows them, native BLAS for dense GEMM, work split over the backend's own threads in chunks that do not depend on
 * the thread count. {@link ReferenceOps} is the double-precision oracle they are tested against.
 */
final class CpuOps implements OpSet, OpPaths, AutoCloseable {
    private final CpuContext context;
    private final CpuElementwiseOps elementwise;
    private final CpuGemmOps gemm;
    private final CpuAttentionOps attention;
    private final CpuConvolutionOps convolution;
    private final CpuVoxelizationOps voxelization;

    CpuOps(CpuOptions options) {
        this.context = CpuContext.open(options);
        this.elementwise = new CpuElementwiseOps(context);
        this.gemm = new CpuGemmOps(context);
        this.attention = new CpuAttentionOps(context);
        this.convolution = new CpuConvolutionOps(context);
        this.voxelization = new CpuVoxelizationOps(context);
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

    @Override
    public List<String> denseLinearPaths() {
        return gemm.denseLinearPaths();
    }

    @Override
    public void linearDense(String path, DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation,
                            DeviceArray y) {
        gemm.linearDense(path, x, w, bias, activation, y);
    }

    @Override
    public void close() {
        context.threads().close();
        gemm.close();
    }
}

package org.lacuna.runtime.cpu;

import java.util.List;
import java.util.function.LongFunction;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.OpFamilies;
import org.lacuna.runtime.schedule.OpPaths;

/**
 * The serving CPU ops: fp32 arithmetic (16-bit storage widened in registers), Vector API kernels where the JVM
 * allows them, native BLAS for dense GEMM, work split over the backend's own threads in chunks that do not depend on
 * the thread count. {@link ReferenceOps} is the double-precision oracle they are tested against.
 */
final class CpuOps extends OpFamilies implements OpPaths, AutoCloseable {
    private final CpuContext context;
    private final CpuGemmOps gemm;
    private final CpuConvolutionOps convolution;

    /** @param memory the backend's allocator, for the ops that size their own outputs (the resident voxels) */
    CpuOps(CpuOptions options, LongFunction<DeviceBuffer> memory) {
        CpuContext context = CpuContext.open(options);
        CpuGemmOps gemm = new CpuGemmOps(context);
        this.context = context;
        this.gemm = gemm;
        CpuConvolutionOps convolution = new CpuConvolutionOps(context);
        this.convolution = convolution;
        super(new CpuElementwiseOps(context), gemm, new CpuAttentionOps(context), convolution,
                new CpuVoxelizationOps(context, memory));
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
        try {
            convolution.close();
        } finally {
            context.threads().close();
            gemm.close();
        }
    }
}

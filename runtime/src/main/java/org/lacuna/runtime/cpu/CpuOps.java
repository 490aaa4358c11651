package org.lacuna.runtime.cpu;

import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.AttentionOps;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.ops.TwoFourWeight;

/**
 * The serving CPU ops: fp32 arithmetic (16-bit storage widened in registers), Vector API kernels where the JVM
 * allows them, native BLAS for dense GEMM, work split over the backend's own threads in chunks that do not depend on
 * the thread count. {@link ReferenceOps} is the double-precision oracle they are tested against.
 */
final class CpuOps implements OpSet, AutoCloseable {
    private final CpuContext context;
    private final CpuElementwise elementwise;
    private final CpuDenseLinear dense;
    private final CpuSparseLinear sparse;
    private final CpuAttentionOps attention;
    private final CpuConvolutionOps convolution;

    CpuOps(CpuOptions options) {
        this.context = CpuContext.open(options);
        this.elementwise = new CpuElementwise(context);
        this.dense = new CpuDenseLinear(context);
        this.sparse = new CpuSparseLinear(context);
        this.attention = new CpuAttentionOps(context);
        this.convolution = new CpuConvolutionOps(context);
    }

    @Override
    public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        elementwise.biasActivation(x, bias, activation, y);
    }

    @Override
    public void cast(DeviceArray x, DeviceArray y) {
        elementwise.cast(x, y);
    }

    @Override
    public void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
        elementwise.rowReduce(x, reduction, out);
    }

    @Override
    public void linearDense(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
        dense.linear(x, w, bias, activation, y);
    }

    @Override
    public void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        sparse.linearTwoFour(x, w, bias, activation, y);
    }

    @Override
    public void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        sparse.linearCsr(x, w, bias, activation, y);
    }

    @Override
    public ConvolutionOps convolution() {
        return convolution;
    }

    @Override
    public AttentionOps attention() {
        return attention;
    }

    @Override
    public void close() {
        context.threads().close();
        sparse.close();
    }
}

package org.lacuna.runtime.cpu;

import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.GemmOps;
import org.lacuna.runtime.ops.TwoFourWeight;

/**
 * The GEMM family of the serving CPU backend: dense weights through native BLAS ({@link CpuDenseLinear}), 2:4 and
 * CSR weights through the sparse tile kernels ({@link CpuSparseLinear}).
 */
final class CpuGemmOps implements GemmOps, AutoCloseable {
    private final CpuDenseLinear dense;
    private final CpuSparseLinear sparse;

    CpuGemmOps(CpuContext context) {
        this.dense = new CpuDenseLinear(context);
        this.sparse = new CpuSparseLinear(context);
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
    public void close() {
        sparse.close();
    }
}

package org.lacuna.runtime.internal.cuda;

import java.util.function.Supplier;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ElementwiseContracts;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.RowReduction;

/** The elementwise and normalisation ops on the GPU: grid-stride kernels on the backend's stream. */
final class CudaElementwiseOps implements ElementwiseOps {
    private final KernelStream kernels;
    private final ElementwiseLaunches launches;

    CudaElementwiseOps(KernelStream kernels, int multiprocessors) {
        this.kernels = kernels;
        this.launches = new ElementwiseLaunches(LaunchOperands.DEVICE_ADDRESSES, multiprocessors);
    }

    @Override
    public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        ElementwiseContracts.biasActivation(CudaBackendProvider.NAME, x, bias, activation, y);
        runUnlessEmpty(x.elementCount(), () -> launches.biasActivation(x, bias, activation, y));
    }

    @Override
    public void cast(DeviceArray x, DeviceArray y) {
        ElementwiseContracts.cast(CudaBackendProvider.NAME, x, y);
        runUnlessEmpty(x.elementCount(), () -> launches.cast(x, y));
    }

    @Override
    public void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
        ElementwiseContracts.rowReduce(CudaBackendProvider.NAME, x, reduction, out);
        runUnlessEmpty(x.shape().rows(), () -> launches.rowReduce(x, reduction, out));
    }

    @Override
    public void add(DeviceArray a, DeviceArray b, DeviceArray y) {
        ElementwiseContracts.add(CudaBackendProvider.NAME, a, b, y);
        runUnlessEmpty(a.elementCount(), () -> launches.add(a, b, y));
    }

    @Override
    public void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
        ElementwiseContracts.layerNorm(CudaBackendProvider.NAME, x, gamma, beta, epsilon, y);
        runUnlessEmpty(x.shape().rows(), () -> launches.layerNorm(x, gamma, beta, epsilon, y));
    }

    /**
     * Composed from {@link #add} and {@link #layerNorm} (two launches, the sum rounded to the storage type in
     * between): the GPU has no fused kernel for it yet, and on the GPU the extra pass over the activations is a small
     * part of a layer. Both launches go to one stream, so the norm reads the finished sum.
     */
    @Override
    public void residualLayerNorm(DeviceArray x, DeviceArray residual, DeviceArray gamma, DeviceArray beta,
                                  double epsilon, DeviceArray y) {
        ElementwiseContracts.residualLayerNorm(CudaBackendProvider.NAME, x, residual, gamma, beta, epsilon, y);
        add(x, residual, y);
        layerNorm(y, gamma, beta, epsilon, y);
    }

    @Override
    public void batchNorm(DeviceArray x, DeviceArray scale, DeviceArray shift, DeviceArray y) {
        ElementwiseContracts.batchNorm(CudaBackendProvider.NAME, x, scale, shift, y);
        runUnlessEmpty(x.elementCount(), () -> launches.batchNorm(x, scale, shift, y));
    }

    @Override
    public void concatColumns(DeviceArray a, DeviceArray b, DeviceArray y) {
        ElementwiseContracts.concatColumns(CudaBackendProvider.NAME, a, b, y);
        runUnlessEmpty(y.elementCount(), () -> launches.concatColumns(a, b, y));
    }

    /** Launches only for work to do: a launch over no rows or elements would have an empty grid. */
    private void runUnlessEmpty(long work, Supplier<KernelLaunch> launch) {
        if (work != 0) {
            kernels.launch(launch.get());
        }
    }
}

package org.lacuna.runtime.internal.cuda;

import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ElementwiseContracts;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.RowReduction;

/** The elementwise and normalisation ops on the GPU: grid-stride kernels on the backend's stream. */
final class CudaElementwiseOps implements ElementwiseOps {
    private final KernelModules modules;
    private final StreamHandle stream;
    private final ElementwiseLaunches launches;

    CudaElementwiseOps(KernelModules modules, StreamHandle stream, int multiprocessors) {
        this.modules = modules;
        this.stream = stream;
        this.launches = new ElementwiseLaunches(CudaElementwiseOps::addPointer, multiprocessors);
    }

    @Override
    public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        ElementwiseContracts.biasActivation(CudaBackendProvider.NAME, x, bias, activation, y);
        if (x.elementCount() != 0) {
            run(launches.biasActivation(x, bias, activation, y));
        }
    }

    @Override
    public void cast(DeviceArray x, DeviceArray y) {
        ElementwiseContracts.cast(CudaBackendProvider.NAME, x, y);
        if (x.elementCount() != 0) {
            run(launches.cast(x, y));
        }
    }

    @Override
    public void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
        ElementwiseContracts.rowReduce(CudaBackendProvider.NAME, x, reduction, out);
        if (x.shape().rows() != 0) {
            run(launches.rowReduce(x, reduction, out));
        }
    }

    @Override
    public void add(DeviceArray a, DeviceArray b, DeviceArray y) {
        ElementwiseContracts.add(CudaBackendProvider.NAME, a, b, y);
        if (a.elementCount() != 0) {
            run(launches.add(a, b, y));
        }
    }

    @Override
    public void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
        ElementwiseContracts.layerNorm(CudaBackendProvider.NAME, x, gamma, beta, epsilon, y);
        if (x.shape().rows() != 0) {
            run(launches.layerNorm(x, gamma, beta, epsilon, y));
        }
    }

    @Override
    public void batchNorm(DeviceArray x, DeviceArray scale, DeviceArray shift, DeviceArray y) {
        ElementwiseContracts.batchNorm(CudaBackendProvider.NAME, x, scale, shift, y);
        if (x.elementCount() != 0) {
            run(launches.batchNorm(x, scale, shift, y));
        }
    }

    @Override
    public void concatColumns(DeviceArray a, DeviceArray b, DeviceArray y) {
        ElementwiseContracts.concatColumns(CudaBackendProvider.NAME, a, b, y);
        if (y.elementCount() != 0) {
            run(launches.concatColumns(a, b, y));
        }
    }

    private void run(KernelLaunch launch) {
        modules.launch(launch, stream);
    }

    private static void addPointer(KernelArguments arguments, DeviceArray array, String call) {
        arguments.pointer(array == null ? null : ((CudaBuffer) array.buffer()).pointer(call, array.byteOffset()));
    }
}

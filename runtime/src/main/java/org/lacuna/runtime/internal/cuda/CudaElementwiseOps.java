package org.lacuna.runtime.internal.cuda;

import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ElementwiseContracts;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.RowReduction;

/** The elementwise and normalisation ops on the GPU: grid-stride kernels on the backend's stream. */
final class CudaElementwiseOps implements ElementwiseOps {
    private static final int BLOCK = 256;
    /** Grid-stride kernels need no more blocks than keep every SM busy. */
    private static final int BLOCKS_PER_SM = 8;

    private final KernelModules modules;
    private final StreamHandle stream;
    private final int multiprocessors;

    CudaElementwiseOps(KernelModules modules, StreamHandle stream, int multiprocessors) {
        this.modules = modules;
        this.stream = stream;
        this.multiprocessors = multiprocessors;
    }

    @Override
    public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        ElementwiseContracts.biasActivation(CudaBackendProvider.NAME, x, bias, activation, y);
        long count = x.elementCount();
        if (count == 0) {
            return;
        }
        var function = modules.function("bias_activation.cu", Map.of("T_IN", x.dtype().kernelName(),
                "T_OUT", y.dtype().kernelName(), "ACT", activation.kernelName(), "BLOCK", Integer.toString(BLOCK)),
                "bias_activation");
        CUdeviceptr biasPointer = bias == null ? new CUdeviceptr() : pointer(bias, "biasActivation");
        Pointer parameters = Pointer.to(Pointer.to(pointer(x, "biasActivation")), Pointer.to(biasPointer),
                Pointer.to(pointer(y, "biasActivation")), Pointer.to(new long[] {x.shape().rows()}),
                Pointer.to(new long[] {x.shape().columns()}));
        modules.launch("bias_activation", function, gridFor(count), BLOCK, 0, stream, parameters);
    }

    @Override
    public void cast(DeviceArray x, DeviceArray y) {
        ElementwiseContracts.cast(CudaBackendProvider.NAME, x, y);
        long count = x.elementCount();
        if (count == 0) {
            return;
        }
        var function = modules.function("cast.cu", Map.of("T_IN", x.dtype().kernelName(),
                "T_OUT", y.dtype().kernelName(), "BLOCK", Integer.toString(BLOCK)), "cast");
        Pointer parameters = Pointer.to(Pointer.to(pointer(x, "cast")), Pointer.to(pointer(y, "cast")),
                Pointer.to(new long[] {count}));
        modules.launch("cast", function, gridFor(count), BLOCK, 0, stream, parameters);
    }

    @Override
    public void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
        ElementwiseContracts.rowReduce(CudaBackendProvider.NAME, x, reduction, out);
        long rows = x.shape().rows();
        if (rows == 0) {
            return;
        }
        var function = modules.function("row_reduce.cu", Map.of("T_IN", x.dtype().kernelName(),
                "OP", reduction.kernelName(), "BLOCK", Integer.toString(BLOCK)), "row_reduce");
        Pointer parameters = Pointer.to(Pointer.to(pointer(x, "rowReduce")), Pointer.to(pointer(out, "rowReduce")),
                Pointer.to(new long[] {rows}), Pointer.to(new long[] {x.shape().columns()}));
        modules.launch("row_reduce", function, Math.min(rows, (long) multiprocessors * 32), BLOCK, 0, stream, parameters);
    }

    @Override
    public void add(DeviceArray a, DeviceArray b, DeviceArray y) {
        String call = "add";
        ElementwiseContracts.add(CudaBackendProvider.NAME, a, b, y);
        long count = a.elementCount();
        if (count == 0) {
            return;
        }
        var function = modules.function("residual_add.cu", Map.of("T_IN", a.dtype().kernelName(),
                "BLOCK", Integer.toString(BLOCK)), "residual_add");
        Pointer parameters = Pointer.to(Pointer.to(pointer(a, call)), Pointer.to(pointer(b, call)),
                Pointer.to(pointer(y, call)), Pointer.to(new long[] {count}));
        modules.launch("residual_add", function, gridFor(count), BLOCK, 0, stream, parameters);
    }

    @Override
    public void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
        String call = "layerNorm";
        ElementwiseContracts.layerNorm(CudaBackendProvider.NAME, x, gamma, beta, epsilon, y);
        long rows = x.shape().rows();
        if (rows == 0) {
            return;
        }
        var function = modules.function("layer_norm.cu", Map.of("T_IN", x.dtype().kernelName(),
                "T_OUT", y.dtype().kernelName(), "BLOCK", Integer.toString(BLOCK)), "layer_norm");
        Pointer parameters = Pointer.to(Pointer.to(pointer(x, call)), Pointer.to(pointer(gamma, call)),
                Pointer.to(beta == null ? new CUdeviceptr() : pointer(beta, call)), Pointer.to(pointer(y, call)),
                Pointer.to(new long[] {rows}), Pointer.to(new long[] {x.shape().columns()}),
                Pointer.to(new float[] {(float) epsilon}));
        modules.launch("layer_norm", function, Math.min(rows, (long) multiprocessors * 32), BLOCK, 0, stream,
                parameters);
    }

    @Override
    public void batchNorm(DeviceArray x, DeviceArray scale, DeviceArray shift, DeviceArray y) {
        String call = "batchNorm";
        ElementwiseContracts.batchNorm(CudaBackendProvider.NAME, x, scale, shift, y);
        long count = x.elementCount();
        if (count == 0) {
            return;
        }
        var function = modules.function("batch_norm.cu", Map.of("T_IN", x.dtype().kernelName(),
                "T_OUT", y.dtype().kernelName(), "BLOCK", Integer.toString(BLOCK)), "batch_norm");
        Pointer parameters = Pointer.to(Pointer.to(pointer(x, call)), Pointer.to(pointer(scale, call)),
                Pointer.to(pointer(shift, call)), Pointer.to(pointer(y, call)),
                Pointer.to(new long[] {x.shape().rows()}), Pointer.to(new long[] {x.shape().columns()}));
        modules.launch("batch_norm", function, gridFor(count), BLOCK, 0, stream, parameters);
    }

    @Override
    public void concatColumns(DeviceArray a, DeviceArray b, DeviceArray y) {
        String call = "concatColumns";
        ElementwiseContracts.concatColumns(CudaBackendProvider.NAME, a, b, y);
        long count = y.elementCount();
        if (count == 0) {
            return;
        }
        var function = modules.function("concat_columns.cu", Map.of("WIDTH", Integer.toString(y.dtype().byteSize()),
                "BLOCK", Integer.toString(BLOCK)), "concat_columns");
        Pointer parameters = Pointer.to(Pointer.to(pointer(a, call)), Pointer.to(pointer(b, call)),
                Pointer.to(pointer(y, call)), Pointer.to(new long[] {y.shape().dim(0)}),
                Pointer.to(new long[] {a.shape().dim(1)}), Pointer.to(new long[] {b.shape().dim(1)}));
        modules.launch("concat_columns", function, gridFor(count), BLOCK, 0, stream, parameters);
    }

    private long gridFor(long elements) {
        return Math.min((elements + BLOCK - 1) / BLOCK, (long) multiprocessors * BLOCKS_PER_SM);
    }

    private static CUdeviceptr pointer(DeviceArray array, String call) {
        return ((CudaBuffer) array.buffer()).pointer(call, array.byteOffset());
    }
}

package org.lacuna.runtime.internal.cuda;

import java.util.Map;
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
        CUdeviceptr biasPointer = bias == null ? null : pointer(bias, "biasActivation");
        KernelArguments parameters = new KernelArguments().pointer(pointer(x, "biasActivation")).pointer(biasPointer)
                .pointer(pointer(y, "biasActivation")).i64(x.shape().rows()).i64(x.shape().columns());
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
        KernelArguments parameters = new KernelArguments().pointer(pointer(x, "cast")).pointer(pointer(y, "cast"))
                .i64(count);
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
        KernelArguments parameters = new KernelArguments().pointer(pointer(x, "rowReduce"))
                .pointer(pointer(out, "rowReduce")).i64(rows).i64(x.shape().columns());
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
        KernelArguments parameters = new KernelArguments().pointer(pointer(a, call)).pointer(pointer(b, call))
                .pointer(pointer(y, call)).i64(count);
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
        KernelArguments parameters = new KernelArguments().pointer(pointer(x, call)).pointer(pointer(gamma, call))
                .pointer(beta == null ? null : pointer(beta, call)).pointer(pointer(y, call)).i64(rows)
                .i64(x.shape().columns()).f32((float) epsilon);
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
        KernelArguments parameters = new KernelArguments().pointer(pointer(x, call)).pointer(pointer(scale, call))
                .pointer(pointer(shift, call)).pointer(pointer(y, call)).i64(x.shape().rows())
                .i64(x.shape().columns());
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
        KernelArguments parameters = new KernelArguments().pointer(pointer(a, call)).pointer(pointer(b, call))
                .pointer(pointer(y, call)).i64(y.shape().dim(0)).i64(a.shape().dim(1)).i64(b.shape().dim(1));
        modules.launch("concat_columns", function, gridFor(count), BLOCK, 0, stream, parameters);
    }

    private long gridFor(long elements) {
        return LaunchGrid.gridStride(elements, BLOCK, (long) multiprocessors * BLOCKS_PER_SM);
    }

    private static CUdeviceptr pointer(DeviceArray array, String call) {
        return ((CudaBuffer) array.buffer()).pointer(call, array.byteOffset());
    }
}

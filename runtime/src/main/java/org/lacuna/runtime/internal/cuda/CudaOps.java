package org.lacuna.runtime.internal.cuda;

import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import org.lacuna.runtime.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.OpContracts;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.RowReduction;

/** The ops on the GPU: each a specialisation of a shipped kernel, launched on the backend's stream. */
final class CudaOps implements OpSet {
    private static final int BLOCK = 256;
    /** Grid-stride kernels need no more blocks than keep every SM busy. */
    private static final int BLOCKS_PER_SM = 8;

    private final KernelModules modules;
    private final CUstream stream;
    private final int multiprocessors;

    CudaOps(KernelModules modules, CUstream stream, int multiprocessors) {
        this.modules = modules;
        this.stream = stream;
        this.multiprocessors = multiprocessors;
    }

    @Override
    public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        OpContracts.biasActivation(CudaBackendProvider.NAME, x, bias, activation, y);
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
        OpContracts.cast(CudaBackendProvider.NAME, x, y);
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
        OpContracts.rowReduce(CudaBackendProvider.NAME, x, reduction, out);
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

    private long gridFor(long elements) {
        return Math.min((elements + BLOCK - 1) / BLOCK, (long) multiprocessors * BLOCKS_PER_SM);
    }

    private static CUdeviceptr pointer(DeviceArray array, String call) {
        return ((CudaBuffer) array.buffer()).pointer(call, array.byteOffset());
    }
}

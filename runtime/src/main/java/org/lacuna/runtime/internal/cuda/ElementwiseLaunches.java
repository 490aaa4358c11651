package org.lacuna.runtime.internal.cuda;

import java.util.HashMap;
import java.util.Map;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;

/**
 * The launches of the elementwise and normalisation kernels: which variant, grid and arguments each op of {@link
 * CudaElementwiseOps} makes for its (already checked) operands. Separate from the op so that the kernel emulator's
 * fixtures record the very launches a GPU would receive, with {@link LaunchOperands} naming each buffer instead of
 * its device address.
 */
final class ElementwiseLaunches {
    static final int BLOCK = 256;
    /** Grid-stride kernels need no more blocks than keep every SM busy. */
    static final int BLOCKS_PER_SM = 8;
    /** Row kernels (one row per block, striding over rows) start at most this many blocks per SM. */
    static final int ROW_BLOCKS_PER_SM = 32;

    private final LaunchOperands operands;
    private final int multiprocessors;

    ElementwiseLaunches(LaunchOperands operands, int multiprocessors) {
        this.operands = operands;
        this.multiprocessors = multiprocessors;
    }

    KernelLaunch biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        String call = "biasActivation";
        KernelArguments arguments = pointers(call, x, bias, y).i64(x.shape().rows()).i64(x.shape().columns());
        return elementwise("bias_activation", Map.of("T_IN", x.dtype().kernelName(), "T_OUT", y.dtype().kernelName(),
                "ACT", activation.kernelName()), x.elementCount(), arguments);
    }

    KernelLaunch cast(DeviceArray x, DeviceArray y) {
        KernelArguments arguments = pointers("cast", x, y).i64(x.elementCount());
        return elementwise("cast", Map.of("T_IN", x.dtype().kernelName(), "T_OUT", y.dtype().kernelName()),
                x.elementCount(), arguments);
    }

    KernelLaunch rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
        long rows = x.shape().rows();
        KernelArguments arguments = pointers("rowReduce", x, out).i64(rows).i64(x.shape().columns());
        return rows("row_reduce", Map.of("T_IN", x.dtype().kernelName(), "OP", reduction.kernelName()), rows,
                arguments);
    }

    KernelLaunch add(DeviceArray a, DeviceArray b, DeviceArray y) {
        KernelArguments arguments = pointers("add", a, b, y).i64(a.elementCount());
        return elementwise("residual_add", Map.of("T_IN", a.dtype().kernelName()), a.elementCount(), arguments);
    }

    KernelLaunch layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
        long rows = x.shape().rows();
        KernelArguments arguments = pointers("layerNorm", x, gamma, beta, y).i64(rows).i64(x.shape().columns())
                .f32((float) epsilon);
        return rows("layer_norm", Map.of("T_IN", x.dtype().kernelName(), "T_OUT", y.dtype().kernelName()), rows,
                arguments);
    }

    KernelLaunch batchNorm(DeviceArray x, DeviceArray scale, DeviceArray shift, DeviceArray y) {
        KernelArguments arguments = pointers("batchNorm", x, scale, shift, y).i64(x.shape().rows())
                .i64(x.shape().columns());
        return elementwise("batch_norm", Map.of("T_IN", x.dtype().kernelName(), "T_OUT", y.dtype().kernelName()),
                x.elementCount(), arguments);
    }

    KernelLaunch concatColumns(DeviceArray a, DeviceArray b, DeviceArray y) {
        KernelArguments arguments = pointers("concatColumns", a, b, y).i64(y.shape().dim(0)).i64(a.shape().dim(1))
                .i64(b.shape().dim(1));
        return elementwise("concat_columns", Map.of("WIDTH", Integer.toString(y.dtype().byteSize())),
                y.elementCount(), arguments);
    }

    private KernelArguments pointers(String call, DeviceArray... arrays) {
        KernelArguments arguments = new KernelArguments();
        for (DeviceArray array : arrays) {
            operands.add(arguments, array, call);
        }
        return arguments;
    }

    /** A grid-stride kernel over {@code elements}. */
    private KernelLaunch elementwise(String kernel, Map<String, String> variant, long elements,
                                     KernelArguments arguments) {
        long grid = LaunchGrid.gridStride(elements, BLOCK, (long) multiprocessors * BLOCKS_PER_SM);
        return launch(kernel, variant, grid, arguments);
    }

    /** A row kernel: one block per row, at most {@link #ROW_BLOCKS_PER_SM} per SM, striding over the rest. */
    private KernelLaunch rows(String kernel, Map<String, String> variant, long rows, KernelArguments arguments) {
        return launch(kernel, variant, Math.min(rows, (long) multiprocessors * ROW_BLOCKS_PER_SM), arguments);
    }

    private static KernelLaunch launch(String kernel, Map<String, String> variant, long grid,
                                       KernelArguments arguments) {
        var constants = new HashMap<>(variant);
        constants.put("BLOCK", Integer.toString(BLOCK));
        return new KernelLaunch(kernel + ".cu", kernel, constants, grid, 1, BLOCK, 0, arguments);
    }
}

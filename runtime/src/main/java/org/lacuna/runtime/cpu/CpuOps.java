package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.stream.LongStream;
import org.lacuna.runtime.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.OpContracts;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.RowReduction;

/**
 * The reference implementation of every op: double-precision arithmetic, one rounding to the output type at the
 * end, rows spread over the common fork-join pool.
 */
final class CpuOps implements OpSet {
    /** Below this many elements a parallel stream costs more than it saves. */
    private static final long PARALLEL_THRESHOLD = 1 << 15;

    @Override
    public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        OpContracts.biasActivation(CpuBackendProvider.NAME, x, bias, activation, y);
        MemorySegment in = segment(x, "biasActivation");
        MemorySegment out = segment(y, "biasActivation");
        MemorySegment b = bias == null ? null : segment(bias, "biasActivation");
        long cols = x.shape().columns();
        rows(x.shape().rows(), x.elementCount(), row -> {
            for (long c = 0; c < cols; c++) {
                long i = row * cols + c;
                double v = CpuElements.read(in, x.byteOffset(), x.dtype(), i);
                if (b != null) {
                    v += CpuElements.read(b, bias.byteOffset(), bias.dtype(), c);
                }
                CpuElements.write(out, y.byteOffset(), y.dtype(), i, (float) activation.apply(v));
            }
        });
    }

    @Override
    public void cast(DeviceArray x, DeviceArray y) {
        OpContracts.cast(CpuBackendProvider.NAME, x, y);
        MemorySegment in = segment(x, "cast");
        MemorySegment out = segment(y, "cast");
        long cols = Math.max(1, x.shape().columns());
        long count = x.elementCount();
        rows((count + cols - 1) / cols, count, row -> {
            long end = Math.min(count, (row + 1) * cols);
            for (long i = row * cols; i < end; i++) {
                CpuElements.write(out, y.byteOffset(), y.dtype(), i, CpuElements.read(in, x.byteOffset(), x.dtype(), i));
            }
        });
    }

    @Override
    public void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
        OpContracts.rowReduce(CpuBackendProvider.NAME, x, reduction, out);
        MemorySegment in = segment(x, "rowReduce");
        MemorySegment result = segment(out, "rowReduce");
        long cols = x.shape().columns();
        rows(x.shape().rows(), x.elementCount(), row -> {
            double acc = reduction == RowReduction.MAX ? Double.NEGATIVE_INFINITY : 0.0;
            for (long c = 0; c < cols; c++) {
                double v = CpuElements.read(in, x.byteOffset(), x.dtype(), row * cols + c);
                acc = switch (reduction) {
                    case SUM -> acc + v;
                    case MAX -> Math.max(acc, v);
                    case L2 -> acc + v * v;
                };
            }
            CpuElements.write(result, out.byteOffset(), out.dtype(), row,
                    (float) (reduction == RowReduction.L2 ? Math.sqrt(acc) : acc));
        });
    }

    private static MemorySegment segment(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).segment(call);
    }

    private static void rows(long rows, long elements, java.util.function.LongConsumer body) {
        LongStream range = LongStream.range(0, rows);
        (elements >= PARALLEL_THRESHOLD ? range.parallel() : range).forEach(body);
    }
}

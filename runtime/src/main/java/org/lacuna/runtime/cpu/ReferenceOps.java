package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.LongStream;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.gemm.TwoFourMetadata;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.OpContracts;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.ops.TwoFourWeight;

/**
 * The reference implementation of every op: double-precision arithmetic, one rounding to the output type at the
 * end, rows spread over the common fork-join pool.
 */
final class ReferenceOps implements OpSet {
    /** The backend whose tensors this serves: the reference's own, or the serving backend it stands in for. */
    private final String backend;

    private final org.lacuna.runtime.ops.AttentionOps attention;
    private final org.lacuna.runtime.ops.ConvolutionOps convolution;

    ReferenceOps(String backend) {
        this.backend = backend;
        this.attention = new ReferenceAttentionOps(backend);
        this.convolution = new ReferenceConvolutionOps(backend);
    }

    /** Below this many elements a parallel stream costs more than it saves. */
    private static final long PARALLEL_THRESHOLD = 1 << 15;

    @Override
    public org.lacuna.runtime.ops.AttentionOps attention() {
        return attention;
    }


    @Override
    public org.lacuna.runtime.ops.ConvolutionOps convolution() {
        return convolution;
    }

    @Override
    public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        OpContracts.biasActivation(backend, x, bias, activation, y);
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
        OpContracts.cast(backend, x, y);
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
        OpContracts.rowReduce(backend, x, reduction, out);
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

    @Override
    public void linearDense(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
        OpContracts.linearDense(backend, x, w, bias, activation, y);
        MemorySegment weights = segment(w, "linearDense");
        int in = Math.toIntExact(w.shape().dim(1));
        linear(x, Math.toIntExact(w.shape().dim(0)), in, bias, activation, y, (row, dense) -> {
            for (int k = 0; k < in; k++) {
                dense[k] = CpuElements.read(weights, w.byteOffset(), w.dtype(), (long) row * in + k);
            }
        });
    }

    @Override
    public void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        OpContracts.linearTwoFour(backend, x, w, bias, activation, y);
        MemorySegment values = segment(w.values(), "linearTwoFour");
        int[] metadata = segment(w.metadata(), "linearTwoFour")
                .asSlice(w.metadata().byteOffset(), w.metadata().byteSize()).toArray(ValueLayout.JAVA_INT);
        int compressedRow = w.paddedIn() / 2;
        linear(x, w.out(), w.in(), bias, activation, y, (row, dense) -> {
            java.util.Arrays.fill(dense, 0f);
            for (int group = 0; group < (w.in() + 3) / 4; group++) {
                int nibble = TwoFourMetadata.nibbleAt(metadata, row, group, w.paddedOut());
                for (int slot = 0; slot < 2; slot++) {
                    int column = 4 * group + ((nibble >>> (2 * slot)) & 3);
                    if (column < w.in()) {
                        dense[column] = CpuElements.read(values, w.values().byteOffset(), w.dtype(),
                                (long) row * compressedRow + 2L * group + slot);
                    }
                }
            }
        });
    }

    @Override
    public void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        OpContracts.linearCsr(backend, x, w, bias, activation, y);
        MemorySegment offsets = segment(w.rowOffsets(), "linearCsr");
        MemorySegment columns = segment(w.columns(), "linearCsr");
        MemorySegment values = segment(w.values(), "linearCsr");
        long offsetBase = w.rowOffsets().byteOffset() / 4;
        long columnBase = w.columns().byteOffset() / 4;
        linear(x, w.out(), w.in(), bias, activation, y, (row, dense) -> {
            java.util.Arrays.fill(dense, 0f);
            int begin = offsets.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, offsetBase + row);
            int end = offsets.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, offsetBase + row + 1);
            for (int i = begin; i < end; i++) {
                int column = columns.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, columnBase + i);
                if (column < 0 || column >= w.in()) {
                    throw InvalidInputException.argument("linearCsr", "row " + row + " has column " + column
                            + " outside [0, " + w.in() + ")");
                }
                dense[column] += CpuElements.read(values, w.values().byteOffset(), w.values().dtype(), i);
            }
        });
    }

    /** Fills {@code dense} with row {@code row} of the weight, as the storage format says. */
    @FunctionalInterface
    private interface WeightRows {
        void read(int row, float[] dense);
    }

    /**
     * The reference linear layer: each weight row is expanded once, then dotted with every token in double
     * precision; weight rows are spread over the fork-join pool.
     */
    private static void linear(DeviceArray x, int out, int in, DeviceArray bias, Activation activation, DeviceArray y,
                               WeightRows weights) {
        MemorySegment input = segment(x, "linear");
        MemorySegment output = segment(y, "linear");
        MemorySegment b = bias == null ? null : segment(bias, "linear");
        int tokens = Math.toIntExact(x.shape().rows());
        float[] xs = new float[Math.multiplyExact(tokens, in)];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = CpuElements.read(input, x.byteOffset(), x.dtype(), i);
        }
        java.util.stream.IntStream rows = java.util.stream.IntStream.range(0, out);
        ((long) tokens * out * in >= PARALLEL_THRESHOLD ? rows.parallel() : rows).forEach(row -> {
            float[] dense = new float[in];
            weights.read(row, dense);
            double add = b == null ? 0.0 : CpuElements.read(b, bias.byteOffset(), bias.dtype(), row);
            for (int t = 0; t < tokens; t++) {
                double acc = 0.0;
                int base = t * in;
                for (int k = 0; k < in; k++) {
                    acc += (double) xs[base + k] * dense[k];
                }
                CpuElements.write(output, y.byteOffset(), y.dtype(), (long) t * out + row,
                        (float) activation.apply(acc + add));
            }
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

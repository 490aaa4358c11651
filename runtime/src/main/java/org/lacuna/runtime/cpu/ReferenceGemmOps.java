package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.gemm.TwoFourMetadata;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.GemmContracts;
import org.lacuna.runtime.ops.GemmOps;
import org.lacuna.runtime.ops.TwoFourWeight;

/**
 * The reference of the GEMM family: every weight format expanded row by row to dense and dotted with each token in
 * double precision, one rounding to the output type at the end.
 */
final class ReferenceGemmOps implements GemmOps {
    /** The backend whose tensors this serves: the reference's own, or the serving backend it stands in for. */
    private final String backend;

    ReferenceGemmOps(String backend) {
        this.backend = backend;
    }

    @Override
    public void linearDense(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
        GemmContracts.linearDense(backend, x, w, bias, activation, y);
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
        GemmContracts.linearTwoFour(backend, x, w, bias, activation, y);
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
        GemmContracts.linearCsr(backend, x, w, bias, activation, y);
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
        ReferenceParallel.forEach(out, (long) tokens * out * in, index -> {
            int row = (int) index;
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
}

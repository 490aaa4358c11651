package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.LongStream;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * The reference attention: per sequence and head, the full score matrix in double precision, an exact softmax, one
 * rounding of the output. (Sequence, head) pairs run in parallel.
 */
final class ReferenceAttention {
    private ReferenceAttention() {
    }

    /** One of Q, K, V: where row t, head h, element d lives. */
    private record Operand(MemorySegment segment, long byteOffset, DType dtype, long stride, long column) {
        double get(long row, int head, int headDim, int d) {
            return CpuElements.read(segment, byteOffset, dtype, row * stride + column + (long) head * headDim + d);
        }

        /** Rows [start, start + length) of one head as doubles. */
        double[][] head(int start, int length, int head, int headDim) {
            double[][] values = new double[length][headDim];
            for (int i = 0; i < length; i++) {
                for (int d = 0; d < headDim; d++) {
                    values[i][d] = get(start + i, head, headDim, d);
                }
            }
            return values;
        }
    }

    private static Operand[] operands(AttentionInputs inputs, AttentionOptions options, String call) {
        long width = options.width();
        return switch (inputs) {
            case AttentionInputs.Packed p -> {
                MemorySegment s = ((CpuBuffer) p.qkv().buffer()).segment(call);
                yield new Operand[] {new Operand(s, p.qkv().byteOffset(), p.dtype(), 3 * width, 0),
                    new Operand(s, p.qkv().byteOffset(), p.dtype(), 3 * width, width),
                    new Operand(s, p.qkv().byteOffset(), p.dtype(), 3 * width, 2 * width)};
            }
            case AttentionInputs.Separate s -> new Operand[] {operand(s.q(), width, call), operand(s.k(), width, call),
                operand(s.v(), width, call)};
        };
    }

    private static Operand operand(DeviceArray a, long width, String call) {
        return new Operand(((CpuBuffer) a.buffer()).segment(call), a.byteOffset(), a.dtype(), width, 0);
    }

    /** The batch's offsets, checked as only a synchronous backend can: in range, non-decreasing, within maxLength. */
    static int[] offsets(String call, SequenceBatch batch) {
        int[] offsets = CpuTokenSelection.readInts(batch.offsets(), call);
        if (offsets[0] != 0) {
            throw InvalidInputException.argument(call, "offsets[0] must be 0, got " + offsets[0]);
        }
        for (int b = 0; b + 1 < offsets.length; b++) {
            long length = (long) offsets[b + 1] - offsets[b];
            if (length < 0 || length > batch.maxLength()) {
                throw InvalidInputException.argument(call, "sequence " + b + " has length " + length
                        + ", outside [0, maxLength = " + batch.maxLength() + "]");
            }
        }
        if (offsets[offsets.length - 1] > batch.rows()) {
            throw InvalidInputException.argument(call, "the sequences end at row " + offsets[offsets.length - 1]
                    + " of " + batch.rows());
        }
        return offsets;
    }

    /** The logits scale · q_i·k_j of one head, -inf where the causal mask hides k_j from q_i. */
    private static double[] logits(double[] query, int i, double[][] keys, AttentionOptions options) {
        double[] s = new double[keys.length];
        for (int j = 0; j < keys.length; j++) {
            if (options.causal() && j > i) {
                s[j] = Double.NEGATIVE_INFINITY;
                continue;
            }
            double dot = 0;
            for (int d = 0; d < query.length; d++) {
                dot += query[d] * keys[j][d];
            }
            s[j] = options.scale() * dot;
        }
        return s;
    }

    static void attention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray out,
                          DeviceArray logSumExp) {
        String call = "attention";
        int[] offsets = offsets(call, batch);
        Operand[] qkv = operands(inputs, options, call);
        MemorySegment o = ((CpuBuffer) out.buffer()).segment(call);
        MemorySegment lse = logSumExp == null ? null : ((CpuBuffer) logSumExp.buffer()).segment(call);
        int heads = options.heads();
        int dim = options.headDim();
        int width = options.width();
        long rows = batch.rows();
        // Work: every query row against (at most) every row, per head dimension.
        ReferenceParallel.forEach((long) batch.batch() * heads, rows * rows * width, index -> {
            int task = (int) index;
            int b = task / heads;
            int h = task % heads;
            int start = offsets[b];
            int length = offsets[b + 1] - start;
            double[][] q = qkv[0].head(start, length, h, dim);
            double[][] k = qkv[1].head(start, length, h, dim);
            double[][] v = qkv[2].head(start, length, h, dim);
            for (int i = 0; i < length; i++) {
                double[] s = logits(q[i], i, k, options);
                double max = Double.NEGATIVE_INFINITY;
                for (double x : s) {
                    max = Math.max(max, x);
                }
                double sum = 0;
                double[] acc = new double[dim];
                for (int j = 0; j < length; j++) {
                    double p = Math.exp(s[j] - max);
                    sum += p;
                    for (int d = 0; d < dim; d++) {
                        acc[d] += p * v[j][d];
                    }
                }
                long row = start + i;
                for (int d = 0; d < dim; d++) {
                    CpuElements.write(o, out.byteOffset(), out.dtype(), row * width + (long) h * dim + d,
                            (float) (acc[d] / sum));
                }
                if (lse != null) {
                    lse.set(ValueLayout.JAVA_FLOAT_UNALIGNED, logSumExp.byteOffset() + 4 * (h * rows + row),
                            (float) (max + Math.log(sum)));
                }
            }
        });
        // Rows after the last sequence: zeros, and no keys to sum over.
        for (long row : outside(offsets, rows)) {
            for (long c = 0; c < width; c++) {
                CpuElements.write(o, out.byteOffset(), out.dtype(), row * width + c, 0f);
            }
            if (lse != null) {
                for (int h = 0; h < heads; h++) {
                    lse.set(ValueLayout.JAVA_FLOAT_UNALIGNED, logSumExp.byteOffset() + 4 * (h * rows + row),
                            Float.NEGATIVE_INFINITY);
                }
            }
        }
    }

    static void keyAttention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                             DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
        String call = "keyAttention";
        int[] offsets = offsets(call, batch);
        Operand[] qkv = operands(inputs, options, call);
        MemorySegment lse = ((CpuBuffer) logSumExp.buffer()).segment(call);
        MemorySegment out = ((CpuBuffer) scores.buffer()).segment(call);
        int heads = options.heads();
        int dim = options.headDim();
        long rows = batch.rows();
        ReferenceParallel.forEach(batch.batch(), rows * rows * options.width(), index -> {
            int b = (int) index;
            int start = offsets[b];
            int length = offsets[b + 1] - start;
            int queries = score == KeyScore.CLS ? Math.min(1, length) : length;
            double[] received = new double[length];
            for (int h = 0; h < heads; h++) {
                double[][] q = qkv[0].head(start, queries, h, dim);
                double[][] k = qkv[1].head(start, length, h, dim);
                for (int i = 0; i < queries; i++) {
                    double rowLse = lse.get(ValueLayout.JAVA_FLOAT_UNALIGNED,
                            logSumExp.byteOffset() + 4 * (h * rows + start + i));
                    double[] s = logits(q[i], i, k, options);
                    for (int j = 0; j < length; j++) {
                        received[j] += Math.exp(s[j] - rowLse);
                    }
                }
            }
            double normaliser = heads * (double) (score == KeyScore.CLS ? 1 : length);
            for (int j = 0; j < length; j++) {
                out.set(ValueLayout.JAVA_FLOAT_UNALIGNED, scores.byteOffset() + 4L * (start + j),
                        (float) (received[j] / normaliser));
            }
        });
        for (long row : outside(offsets, rows)) {
            out.set(ValueLayout.JAVA_FLOAT_UNALIGNED, scores.byteOffset() + 4 * row, 0f);
        }
    }

    /** Rows after the last sequence. */
    private static long[] outside(int[] offsets, long rows) {
        return LongStream.range(offsets[offsets.length - 1], rows).toArray();
    }
}

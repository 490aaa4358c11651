package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.stream.LongStream;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.AttentionContracts;
import org.lacuna.runtime.ops.AttentionOps;

/** The reference of every attention op: double precision, one rounding to the output type, checks nothing skips. */
final class ReferenceAttentionOps implements AttentionOps {
    /** The backend whose tensors this serves: the reference's own, or the serving backend it stands in for. */
    private final String backend;

    ReferenceAttentionOps(String backend) {
        this.backend = backend;
    }

    private static final long PARALLEL_THRESHOLD = 1 << 15;

    @Override
    public void selectTokens(DeviceArray scores, SequenceBatch batch, DeviceArray pinMask, SelectionRule rule,
                             TokenSelection out) {
        AttentionContracts.selectTokens(backend, scores, batch, pinMask, rule, out);
        CpuTokenSelection.select(scores, batch, pinMask, rule, out);
    }

    @Override
    public void gatherRows(DeviceArray x, TokenSelection selection, DeviceArray out) {
        AttentionContracts.gatherRows(backend, x, selection, out);
        RowCopies copies = RowCopies.gather(x, selection, out);
        copies.copy(0, copies.rows());
    }

    @Override
    public void scatterRows(DeviceArray kept, TokenSelection selection, DeviceArray passThrough, DeviceArray out) {
        AttentionContracts.scatterRows(backend, kept, selection, passThrough, out);
        RowCopies copies = RowCopies.scatter(kept, selection, passThrough, out);
        copies.copy(0, copies.rows());
    }

    @Override
    public void attention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray out,
                          DeviceArray logSumExp) {
        AttentionContracts.attention(backend, inputs, batch, options, out, logSumExp);
        ReferenceAttention.attention(inputs, batch, options, out, logSumExp);
    }

    @Override
    public void keyAttention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                             DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
        AttentionContracts.keyAttention(backend, inputs, batch, options, logSumExp, score, scores);
        ReferenceAttention.keyAttention(inputs, batch, options, logSumExp, score, scores);
    }

    @Override
    public void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
        AttentionContracts.layerNorm(backend, x, gamma, beta, epsilon, y);
        String call = "layerNorm";
        MemorySegment in = segment(x, call);
        MemorySegment out = segment(y, call);
        float[] g = CpuTokenSelection.readFloats(gamma, call);
        float[] b = beta == null ? null : CpuTokenSelection.readFloats(beta, call);
        long cols = x.shape().columns();
        LongStream rows = LongStream.range(0, x.shape().rows());
        (x.elementCount() >= PARALLEL_THRESHOLD ? rows.parallel() : rows).forEach(row -> {
            double[] v = new double[(int) cols];
            double mean = 0;
            for (int c = 0; c < cols; c++) {
                v[c] = CpuElements.read(in, x.byteOffset(), x.dtype(), row * cols + c);
                mean += v[c];
            }
            mean /= cols;
            double variance = 0;
            for (int c = 0; c < cols; c++) {
                variance += (v[c] - mean) * (v[c] - mean);
            }
            double scale = 1.0 / Math.sqrt(variance / cols + epsilon);
            for (int c = 0; c < cols; c++) {
                double normalised = (v[c] - mean) * scale * g[c] + (b == null ? 0.0 : b[c]);
                CpuElements.write(out, y.byteOffset(), y.dtype(), row * cols + c, (float) normalised);
            }
        });
    }

    @Override
    public void add(DeviceArray a, DeviceArray b, DeviceArray y) {
        AttentionContracts.add(backend, a, b, y);
        String call = "add";
        MemorySegment left = segment(a, call);
        MemorySegment right = segment(b, call);
        MemorySegment out = segment(y, call);
        LongStream elements = LongStream.range(0, a.elementCount());
        (a.elementCount() >= PARALLEL_THRESHOLD ? elements.parallel() : elements).forEach(i -> {
            double sum = (double) CpuElements.read(left, a.byteOffset(), a.dtype(), i)
                    + CpuElements.read(right, b.byteOffset(), b.dtype(), i);
            CpuElements.write(out, y.byteOffset(), y.dtype(), i, (float) sum);
        });
    }

    private static MemorySegment segment(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).segment(call);
    }
}

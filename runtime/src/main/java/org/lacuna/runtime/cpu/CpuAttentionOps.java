package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.cpu.kernels.AttentionTileMath;
import org.lacuna.runtime.cpu.kernels.FlashAttention;
import org.lacuna.runtime.cpu.kernels.HalfMatrix;
import org.lacuna.runtime.cpu.kernels.KeyAttention;
import org.lacuna.runtime.cpu.kernels.RowKernels;
import org.lacuna.runtime.cpu.kernels.RowMath;
import org.lacuna.runtime.cpu.kernels.VectorRowKernels;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.AttentionContracts;
import org.lacuna.runtime.ops.AttentionOps;

/**
 * Token-dropping attention and the transformer-block ops of the serving CPU backend: fp32 flash attention
 * ({@link FlashAttention}, {@link KeyAttention}) and row kernels ({@link RowMath}) on the Vector API or their scalar
 * forms, split into chunks whose boundaries depend on the shapes alone, so results are the same for any thread count.
 */
final class CpuAttentionOps implements AttentionOps {
    /** Rows a chunk of gather, scatter, layer norm and add. */
    private static final int ROWS_PER_CHUNK = 64;
    /** Elements a chunk of add. */
    private static final int ELEMENTS_PER_CHUNK = 1 << 14;

    private final CpuContext context;
    private final AttentionTileMath tileMath;
    private final RowMath rowMath;
    /** Widens layer norm's and add's storage to fp32 and narrows it back, as the elementwise ops do. */
    private final RowKernels storage;

    CpuAttentionOps(CpuContext context) {
        this.context = context;
        this.tileMath = AttentionTileMath.of(context.vectorApi());
        this.rowMath = RowMath.of(context.vectorApi());
        this.storage = context.vectorApi() ? VectorRowKernels.create() : RowKernels.scalar();
    }

    @Override
    public void selectTokens(DeviceArray scores, SequenceBatch batch, DeviceArray pinMask, SelectionRule rule,
                             TokenSelection out) {
        AttentionContracts.selectTokens(CpuBackendProvider.NAME, scores, batch, pinMask, rule, out);
        CpuTokenSelection.select(scores, batch, pinMask, rule, out, context.threads());
    }

    @Override
    public void gatherRows(DeviceArray x, TokenSelection selection, DeviceArray out) {
        AttentionContracts.gatherRows(CpuBackendProvider.NAME, x, selection, out);
        copyInChunks(RowCopies.gather(x, selection, out));
    }

    @Override
    public void scatterRows(DeviceArray kept, TokenSelection selection, DeviceArray passThrough, DeviceArray out) {
        AttentionContracts.scatterRows(CpuBackendProvider.NAME, kept, selection, passThrough, out);
        copyInChunks(RowCopies.scatter(kept, selection, passThrough, out));
    }

    private void copyInChunks(RowCopies copies) {
        int rows = copies.rows();
        context.threads().forEach(CpuThreads.chunks(rows, ROWS_PER_CHUNK),
                chunk -> copies.copy(chunk * ROWS_PER_CHUNK, Math.min(rows, (chunk + 1) * ROWS_PER_CHUNK)));
    }

    @Override
    public void attention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray out,
                          DeviceArray logSumExp) {
        AttentionContracts.attention(CpuBackendProvider.NAME, inputs, batch, options, out, logSumExp);
        String call = "attention";
        int[] offsets = ReferenceAttention.offsets(call, batch);
        HalfMatrix[] qkv = operands(inputs, options, call);
        int width = options.width();
        HalfMatrix o = new HalfMatrix(segment(out, call), out.byteOffset(), out.dtype() == DType.BF16, width, 0);
        MemorySegment lse = logSumExp == null ? null : segment(logSumExp, call);
        FlashAttention.Problem problem = new FlashAttention.Problem(qkv[0], qkv[1], qkv[2], o, lse,
                logSumExp == null ? 0 : logSumExp.byteOffset(), batch.rows(), offsets, options.heads(),
                options.headDim(), options.causal(), (float) options.scale());
        int[][] chunks = FlashAttention.plan(offsets, options.heads());
        context.threads().forEach(chunks.length, c -> FlashAttention.run(problem, chunks[c], tileMath));
        // Rows after the last sequence: zeros, and no keys to sum over.
        for (long row = offsets[offsets.length - 1]; row < batch.rows(); row++) {
            o.zeroRow(row, width);
            for (int h = 0; lse != null && h < options.heads(); h++) {
                lse.set(ValueLayout.JAVA_FLOAT_UNALIGNED, logSumExp.byteOffset() + 4 * (h * batch.rows() + row),
                        Float.NEGATIVE_INFINITY);
            }
        }
    }

    @Override
    public void keyAttention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                             DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
        AttentionContracts.keyAttention(CpuBackendProvider.NAME, inputs, batch, options, logSumExp, score, scores);
        String call = "keyAttention";
        int[] offsets = ReferenceAttention.offsets(call, batch);
        HalfMatrix[] qkv = operands(inputs, options, call);
        MemorySegment out = segment(scores, call);
        KeyAttention.Problem problem = new KeyAttention.Problem(qkv[0], qkv[1], segment(logSumExp, call),
                logSumExp.byteOffset(), out, scores.byteOffset(), batch.rows(), offsets, options.heads(),
                options.headDim(), options.causal(), (float) options.scale(), score == KeyScore.CLS);
        int[][] chunks = KeyAttention.plan(offsets);
        context.threads().forEach(chunks.length, c -> KeyAttention.run(problem, chunks[c], tileMath));
        for (long row = offsets[offsets.length - 1]; row < batch.rows(); row++) {
            out.set(ValueLayout.JAVA_FLOAT_UNALIGNED, scores.byteOffset() + 4 * row, 0f);
        }
    }

    @Override
    public void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
        AttentionContracts.layerNorm(CpuBackendProvider.NAME, x, gamma, beta, epsilon, y);
        String call = "layerNorm";
        MemorySegment in = segment(x, call);
        MemorySegment outSegment = segment(y, call);
        float[] g = CpuTokenSelection.readFloats(gamma, call);
        float[] b = beta == null ? null : CpuTokenSelection.readFloats(beta, call);
        int cols = Math.toIntExact(x.shape().columns());
        long rows = x.elementCount() / cols;
        float eps = (float) epsilon;
        context.threads().forEach(CpuThreads.chunks(rows, ROWS_PER_CHUNK), chunk -> {
            float[] row = new float[cols];
            float[] normalised = new float[cols];
            long end = Math.min(rows, (chunk + 1L) * ROWS_PER_CHUNK);
            for (long r = (long) chunk * ROWS_PER_CHUNK; r < end; r++) {
                storage.widen(in, x.byteOffset() + r * cols * x.dtype().byteSize(), x.dtype(), row, cols);
                float mean = rowMath.sum(row, cols) / cols;
                float variance = rowMath.squaredDeviations(row, cols, mean) / cols;
                float rstd = (float) (1.0 / Math.sqrt(variance + eps));
                rowMath.normalise(row, cols, mean, rstd, g, b, normalised);
                storage.narrow(normalised, cols, outSegment, y.byteOffset() + r * cols * y.dtype().byteSize(),
                        y.dtype());
            }
        });
    }

    @Override
    public void add(DeviceArray a, DeviceArray b, DeviceArray y) {
        AttentionContracts.add(CpuBackendProvider.NAME, a, b, y);
        String call = "add";
        MemorySegment left = segment(a, call);
        MemorySegment right = segment(b, call);
        MemorySegment out = segment(y, call);
        long count = a.elementCount();
        context.threads().forEach(CpuThreads.chunks(count, ELEMENTS_PER_CHUNK), chunk -> {
            long first = (long) chunk * ELEMENTS_PER_CHUNK;
            int n = (int) Math.min(ELEMENTS_PER_CHUNK, count - first);
            float[] x = new float[n];
            float[] z = new float[n];
            storage.widen(left, a.byteOffset() + first * a.dtype().byteSize(), a.dtype(), x, n);
            storage.widen(right, b.byteOffset() + first * b.dtype().byteSize(), b.dtype(), z, n);
            storage.biasActivation(x, n, z, 0, Activation.NONE); // x += z, the elementwise ops' own add
            storage.narrow(x, n, out, y.byteOffset() + first * y.dtype().byteSize(), y.dtype());
        });
    }

    /** Q, K and V as 16-bit matrices: three column ranges of one packed tensor, or three tensors. */
    private static HalfMatrix[] operands(AttentionInputs inputs, AttentionOptions options, String call) {
        long width = options.width();
        boolean bf16 = inputs.dtype() == DType.BF16;
        return switch (inputs) {
            case AttentionInputs.Packed p -> {
                MemorySegment s = segment(p.qkv(), call);
                long at = p.qkv().byteOffset();
                yield new HalfMatrix[] {new HalfMatrix(s, at, bf16, 3 * width, 0),
                    new HalfMatrix(s, at, bf16, 3 * width, width), new HalfMatrix(s, at, bf16, 3 * width, 2 * width)};
            }
            case AttentionInputs.Separate s -> new HalfMatrix[] {
                new HalfMatrix(segment(s.q(), call), s.q().byteOffset(), bf16, width, 0),
                new HalfMatrix(segment(s.k(), call), s.k().byteOffset(), bf16, width, 0),
                new HalfMatrix(segment(s.v(), call), s.v().byteOffset(), bf16, width, 0)};
        };
    }

    private static MemorySegment segment(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).segment(call);
    }
}

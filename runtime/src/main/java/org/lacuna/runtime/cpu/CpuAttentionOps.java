package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.cpu.kernels.AttentionTileMath;
import org.lacuna.runtime.cpu.kernels.FlashAttention;
import org.lacuna.runtime.cpu.kernels.HalfMatrix;
import org.lacuna.runtime.cpu.kernels.KeyAttention;
import org.lacuna.runtime.ops.AttentionContracts;

/**
 * Token-dropping attention of the serving CPU backend: fp32 flash attention ({@link FlashAttention},
 * {@link KeyAttention}) on the Vector API or its scalar form, split into chunks whose boundaries depend on the shapes
 * alone, so results are the same for any thread count.
 */
final class CpuAttentionOps extends HostAttentionOps {
    private final CpuContext context;
    private final AttentionTileMath tileMath;

    CpuAttentionOps(CpuContext context) {
        super(CpuBackendProvider.NAME, context.threads());
        this.context = context;
        this.tileMath = AttentionTileMath.of(context.vectorApi());
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
        int[][] chunks = FlashAttention.plan(offsets, options.heads(), options.headDim());
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

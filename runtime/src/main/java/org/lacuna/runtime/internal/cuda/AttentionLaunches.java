package org.lacuna.runtime.internal.cuda;

import java.util.Map;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.Granularity;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.Shape;

/**
 * The launches of {@code flash_attention.cu}, {@code key_attention.cu} and {@code token_select.cu}
 * {@link CudaAttentionOps} makes for a checked call: specialisation, grid and shared memory from
 * {@link AttentionTiling}, arguments in the kernels' order. Separate from the op so that the kernel emulator's
 * fixtures record exactly these launches ({@link LaunchOperands} names the buffers there; the selection's are not
 * recorded yet: test_select.cpp still writes its arguments). Packed QKV is passed as three views of the one array,
 * 1 and 2 widths along each row.
 */
final class AttentionLaunches {
    private AttentionLaunches() {
    }

    /** Q, K and V as arrays (views into packed QKV) and their common row stride in elements. */
    record Operands(DeviceArray q, DeviceArray k, DeviceArray v, int stride) {
        static Operands of(AttentionInputs inputs, AttentionOptions options) {
            int width = options.width();
            return switch (inputs) {
                case AttentionInputs.Packed p -> new Operands(view(p.qkv(), 0, width), view(p.qkv(), 1, width),
                        view(p.qkv(), 2, width), 3 * width);
                case AttentionInputs.Separate s -> new Operands(s.q(), s.k(), s.v(), width);
            };
        }

        /** The {@code part}-th {@code width} columns of packed rows (the kernel strides over the rest). */
        private static DeviceArray view(DeviceArray qkv, int part, int width) {
            return new DeviceArray(qkv.buffer(), qkv.byteOffset() + (long) part * width * qkv.dtype().byteSize(),
                    qkv.dtype(), Shape.of(qkv.shape().rows(), qkv.shape().dim(1) - (long) part * width));
        }
    }

    /** out = attention over the batch's sequences, lse (may be null) its log-sum-exp per head and row. */
    static KernelLaunch flash(LaunchOperands operands, Operands qkv, SequenceBatch batch, AttentionOptions options,
                              DeviceArray out, DeviceArray logSumExp) {
        String call = "attention";
        long tiles = AttentionTiling.flashTiles(batch.maxLength());
        KernelArguments arguments = new KernelArguments();
        operands.add(arguments, qkv.q(), call);
        operands.add(arguments, qkv.k(), call);
        operands.add(arguments, qkv.v(), call);
        arguments.i32(qkv.stride()).i32(qkv.stride()).i32(qkv.stride());
        operands.add(arguments, out, call);
        arguments.i32(options.width());
        operands.add(arguments, logSumExp, call);
        operands.add(arguments, batch.offsets(), call);
        arguments.i32(batch.batch()).i64(batch.rows()).i32(options.heads()).i32((int) tiles).f32(scaleLog2(options));
        // One grid row a sequence plus one that zeroes the rows after the last sequence.
        return new KernelLaunch("flash_attention.cu", "flash_attention", Map.of("T_IN", qkv.q().dtype().kernelName(),
                "HEAD_DIM", Integer.toString(options.headDim()), "CAUSAL", options.causal() ? "1" : "0"),
                tiles * options.heads(), batch.batch() + 1L, AttentionTiling.FLASH_THREADS,
                AttentionTiling.flashSharedBytes(options.headDim()), arguments);
    }

    /** scores = each row's key score under {@code score}, from the attention's log-sum-exp. */
    static KernelLaunch keys(LaunchOperands operands, Operands qkv, SequenceBatch batch, AttentionOptions options,
                             DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
        String call = "keyAttention";
        KernelArguments arguments = new KernelArguments();
        operands.add(arguments, qkv.q(), call);
        operands.add(arguments, qkv.k(), call);
        arguments.i64(qkv.stride()).i64(qkv.stride());
        operands.add(arguments, logSumExp, call);
        operands.add(arguments, batch.offsets(), call);
        arguments.i32(batch.batch()).i64(batch.rows()).i32(options.heads()).f32(scaleLog2(options))
                .i32(options.causal() ? 1 : 0);
        operands.add(arguments, scores, call);
        return new KernelLaunch("key_attention.cu", "key_attention", Map.of("T_IN", qkv.q().dtype().kernelName(),
                "HEAD_DIM", Integer.toString(options.headDim()), "MODE", score.kernelName()),
                AttentionTiling.keyTiles(batch.maxLength()), batch.batch() + 1L, AttentionTiling.KEY_THREADS,
                AttentionTiling.keySharedBytes(options.headDim(), score == KeyScore.CLS), arguments);
    }

    /**
     * Selection pass 1 ({@code select_tokens}, one CTA a sequence): keys, flags and the kept tokens staged per
     * sequence, the kept counts and offsets, and the status. For a batch of at least one sequence.
     */
    static KernelLaunch select(LaunchOperands operands, DeviceArray scores, SequenceBatch batch, DeviceArray pinMask,
                               SelectionRule rule, TokenSelection out) {
        String call = "selectTokens";
        TokenSelection.Workspace w = out.workspace();
        int mode;
        double ratio = 0;
        float threshold = 0;
        switch (rule.budget()) {
            case SelectionRule.KeepRatio r -> {
                mode = 0;
                ratio = r.ratio();
            }
            case SelectionRule.Threshold t -> {
                mode = 1;
                threshold = t.threshold();
            }
        }
        int[] window = switch (rule.granularity()) {
            case Granularity.Tokens ignored -> new int[] {0, 0, 0};
            case Granularity.Windows g -> new int[] {g.gridWidth(), g.height(), g.width()};
        };
        KernelArguments arguments = new KernelArguments();
        operands.add(arguments, scores, call);
        operands.add(arguments, batch.offsets(), call);
        operands.add(arguments, pinMask, call);
        arguments.i64(batch.rows()).i32(mode).f64(ratio).f32(threshold).i32(rule.pinnedPrefix()).i32(window[0])
                .i32(window[1]).i32(window[2]);
        for (DeviceArray array : new DeviceArray[] {w.keys(), w.flags(), w.staged(), out.slotOf(), out.keptCounts(),
                w.sequenceNan(), out.keptOffsets(), w.counter(), w.status()}) {
            operands.add(arguments, array, call);
        }
        arguments.i32(Math.toIntExact(out.capacity()));
        return new KernelLaunch("token_select.cu", "select_tokens", selectConstants(), batch.batch(), 1,
                AttentionTiling.SELECT_THREADS, 0, arguments);
    }

    /**
     * Selection pass 2 ({@code compact_selection}): the staged tokens moved to their kept slots, the padding and the
     * rows outside every sequence marked. At least one CTA, so an empty batch still gets its offsets, padding and
     * status written.
     */
    static KernelLaunch compact(LaunchOperands operands, SequenceBatch batch, TokenSelection out) {
        String call = "selectTokens";
        KernelArguments arguments = new KernelArguments();
        operands.add(arguments, batch.offsets(), call);
        arguments.i64(batch.rows());
        operands.add(arguments, out.workspace().staged(), call);
        operands.add(arguments, out.keptCounts(), call);
        operands.add(arguments, out.keptOffsets(), call);
        arguments.i32(batch.batch()).i32(Math.toIntExact(out.capacity()));
        operands.add(arguments, out.keptIndex(), call);
        operands.add(arguments, out.slotOf(), call);
        operands.add(arguments, out.workspace().status(), call);
        return new KernelLaunch("token_select.cu", "compact_selection", selectConstants(), Math.max(1, batch.batch()),
                1, AttentionTiling.ROW_THREADS, 0, arguments);
    }

    private static Map<String, String> selectConstants() {
        return Map.of("BLOCK", Integer.toString(AttentionTiling.SELECT_THREADS));
    }

    private static float scaleLog2(AttentionOptions options) {
        return (float) (options.scale() / Math.log(2.0));
    }
}

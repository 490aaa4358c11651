package org.lacuna.runtime.internal.cuda;

import java.util.Map;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.Shape;

/**
 * The launches of {@code flash_attention.cu} and {@code key_attention.cu} {@link CudaAttentionOps} makes for a
 * checked call: specialisation, grid and shared memory from {@link AttentionTiling}, arguments in the kernels' order.
 * Separate from the op so that the kernel emulator's fixtures record exactly these launches ({@link LaunchOperands}
 * names the buffers there). Packed QKV is passed as three views of the one array, 1 and 2 widths along each row.
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
    static KernelLaunch flash(LaunchOperands operands, AttentionInputs inputs, SequenceBatch batch,
                              AttentionOptions options, DeviceArray out, DeviceArray logSumExp) {
        String call = "attention";
        Operands qkv = Operands.of(inputs, options);
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
        return new KernelLaunch("flash_attention.cu", "flash_attention", Map.of("T_IN", inputs.dtype().kernelName(),
                "HEAD_DIM", Integer.toString(options.headDim()), "CAUSAL", options.causal() ? "1" : "0"),
                tiles * options.heads(), batch.batch() + 1L, AttentionTiling.FLASH_THREADS,
                AttentionTiling.flashSharedBytes(options.headDim()), arguments);
    }

    /** scores = each row's key score under {@code score}, from the attention's log-sum-exp. */
    static KernelLaunch keys(LaunchOperands operands, AttentionInputs inputs, SequenceBatch batch,
                             AttentionOptions options, DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
        String call = "keyAttention";
        Operands qkv = Operands.of(inputs, options);
        KernelArguments arguments = new KernelArguments();
        operands.add(arguments, qkv.q(), call);
        operands.add(arguments, qkv.k(), call);
        arguments.i64(qkv.stride()).i64(qkv.stride());
        operands.add(arguments, logSumExp, call);
        operands.add(arguments, batch.offsets(), call);
        arguments.i32(batch.batch()).i64(batch.rows()).i32(options.heads()).f32(scaleLog2(options))
                .i32(options.causal() ? 1 : 0);
        operands.add(arguments, scores, call);
        return new KernelLaunch("key_attention.cu", "key_attention", Map.of("T_IN", inputs.dtype().kernelName(),
                "HEAD_DIM", Integer.toString(options.headDim()), "MODE", score.kernelName()),
                AttentionTiling.keyTiles(batch.maxLength()), batch.batch() + 1L, AttentionTiling.KEY_THREADS,
                AttentionTiling.keySharedBytes(options.headDim(), score == KeyScore.CLS), arguments);
    }

    private static float scaleLog2(AttentionOptions options) {
        return (float) (options.scale() / Math.log(2.0));
    }
}

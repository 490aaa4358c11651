package org.lacuna.runtime.internal.cuda;

import java.util.HashMap;
import java.util.Map;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.TwoFourWeight;

/**
 * The launch of the 2:4 GEMM {@link CudaGemmOps} makes for a checked call: which kernel ({@code two_four_gemm.cu}
 * with mma.sp, or {@code two_four_gemm_sm90.cu} with wgmma.sp), its specialisation, grid, dynamic shared memory and
 * arguments. Separate from the op so that the kernel emulator's fixtures record exactly this launch for every
 * declared variant ({@link LaunchOperands} names the buffers there).
 */
final class TwoFourLaunches {
    private static final String CALL = "linearTwoFour";

    private TwoFourLaunches() {
    }

    /**
     * A kernel choice: the wgmma.sp kernel or the mma.sp one, tokens per CTA, and whether X's rows load with 16-byte
     * copies (K a multiple of 8 and X on a 16-byte boundary).
     */
    record Variant(boolean warpgroup, int blockN, boolean kAligned) {
        /** The variant for {@code tokens} tokens: the wgmma kernel's fixed tile, or a tile fitted to the batch. */
        static Variant of(boolean warpgroup, long tokens, boolean kAligned) {
            return new Variant(warpgroup, warpgroup ? TwoFourGemmTiling.BLOCK_N_SM90 : TwoFourGemmTiling.blockN(tokens),
                    kAligned);
        }

        String file() {
            return warpgroup ? "two_four_gemm_sm90.cu" : "two_four_gemm.cu";
        }

        String entry() {
            return warpgroup ? "two_four_gemm_sm90" : "two_four_gemm";
        }
    }

    /** Y = act(X · Wᵀ + bias) for the rows of {@code x}, as {@code variant}; bias may be null. */
    static KernelLaunch launch(LaunchOperands operands, DeviceArray x, TwoFourWeight w, DeviceArray bias,
                               Activation activation, DeviceArray y, Variant variant) {
        long tokens = x.shape().rows();
        Map<String, String> constants = new HashMap<>(Map.of("T_IN", x.dtype().kernelName(),
                "T_OUT", y.dtype().kernelName(), "ACT", activation.kernelName(),
                "K_ALIGNED", variant.kAligned() ? "1" : "0"));
        if (!variant.warpgroup()) {
            constants.put("BN", Integer.toString(variant.blockN()));
        }
        KernelArguments arguments = new KernelArguments();
        operands.add(arguments, x, CALL);
        operands.add(arguments, w.values(), CALL);
        operands.add(arguments, w.metadata(), CALL);
        operands.add(arguments, bias, CALL);
        operands.add(arguments, y, CALL);
        arguments.i32(Math.toIntExact(tokens)).i32(w.out()).i32(w.in()).i32(w.paddedOut()).i32(w.paddedIn());
        return new KernelLaunch(variant.file(), variant.entry(), constants, LaunchGrid.blocks(tokens, variant.blockN()),
                w.paddedOut() / TwoFourGemmTiling.BLOCK_M, TwoFourGemmTiling.THREADS,
                TwoFourGemmTiling.sharedBytes(variant.blockN()), arguments);
    }
}

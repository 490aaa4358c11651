package org.lacuna.runtime.internal.cuda;

/**
 * The tile sizes of {@code two_four_gemm.cu}, mirrored here to size its grid and dynamic shared memory.
 * Keep in step with the kernel's BM, BK, STAGES and stage layout.
 */
final class TwoFourGemmTiling {
    static final int BLOCK_M = 128;
    static final int BLOCK_K = 64;
    static final int STAGES = 3;
    static final int THREADS = 256;

    /** Tokens per CTA of the Hopper kernel (one wgmma m64n128k32 per warpgroup and k-step). */
    static final int BLOCK_N_SM90 = 128;

    private TwoFourGemmTiling() {
    }

    /**
     * Whether the wgmma.sp kernel serves: on sm_90 for batches that fill its 128-token tiles, and only when
     * {@code lacuna.wgmmaSparse} / {@code LACUNA_WGMMA_SPARSE} enables it — it stays opt-in until a recorded GPU run
     * has verified it against the CPU reference (bench/results/). The switch is read once per backend
     * ({@link #warpgroupKernelEnabled()}), not on every launch.
     */
    static boolean useWarpgroupKernel(int computeCapability, boolean enabled, long tokens) {
        return enabled && computeCapability == 90 && tokens >= 64;
    }

    /** Whether {@code lacuna.wgmmaSparse} / {@code LACUNA_WGMMA_SPARSE} opts in to the wgmma.sp kernel. */
    static boolean warpgroupKernelEnabled() {
        return org.lacuna.runtime.backend.LacunaConfig.flag("wgmmaSparse");
    }

    /** Tokens per CTA: small batches get narrow tiles so fewer token rows are computed on padding. */
    static int blockN(long tokens) {
        return tokens <= 32 ? 32 : tokens <= 64 ? 64 : 128;
    }

    /** Per stage: compressed A (BM × BK/2 halves), B (BN × BK halves), metadata (BK/32 × BM/32 × 32 words). */
    static int sharedBytes(int blockN) {
        int a = BLOCK_M * (BLOCK_K / 2) * 2;
        int b = blockN * BLOCK_K * 2;
        int e = (BLOCK_K / 32) * (BLOCK_M / 32) * 32 * 4;
        return STAGES * (a + b + e);
    }
}

package org.lacuna.runtime.internal.cuda;

/**
 * The tile sizes of {@code sparse24_gemm.cu}, mirrored here to size its grid and dynamic shared memory.
 * Keep in step with the kernel's BM, BK, STAGES and stage layout.
 */
final class SparseGemmTiling {
    static final int BLOCK_M = 128;
    static final int BLOCK_K = 64;
    static final int STAGES = 3;
    static final int THREADS = 256;

    private SparseGemmTiling() {
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

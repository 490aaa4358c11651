package org.lacuna.runtime.internal.cuda;

/**
 * The tile sizes of {@code flash_attention.cu} and {@code key_attention.cu}, mirrored here to size their grids and
 * dynamic shared memory. Keep in step with the kernels' BM, BN, BK, BQ and stage layouts.
 */
final class AttentionTiling {
    /** flash_attention: query rows a CTA, key rows a pipeline stage, threads. */
    static final int FLASH_ROWS = 128;
    static final int FLASH_KEYS = 64;
    static final int FLASH_THREADS = 256;
    /** key_attention: keys a CTA, threads. */
    static final int KEY_ROWS = 64;
    static final int KEY_THREADS = 128;
    /** token_select: threads a sequence. */
    static final int SELECT_THREADS = 512;
    /** compact_selection, gather_rows, scatter_rows. */
    static final int ROW_THREADS = 256;

    private AttentionTiling() {
    }

    /** Q tile plus two stages of K and V tiles. */
    static int flashSharedBytes(int headDim) {
        int rowBytes = headDim * 2;
        return FLASH_ROWS * rowBytes + 2 * 2 * FLASH_KEYS * rowBytes;
    }

    /** Two stages of a K tile, a query tile (16 rows for cls, 64 for mean) and its lse values. */
    static int keySharedBytes(int headDim, boolean cls) {
        int queries = cls ? 16 : 64;
        return 2 * (KEY_ROWS * headDim * 2 + queries * headDim * 2 + queries * 4);
    }

    /** Query tiles a sequence of at most {@code maxLength} needs (one at least, so the tail-zeroing CTAs exist). */
    static long flashTiles(int maxLength) {
        return Math.max(1, ((long) maxLength + FLASH_ROWS - 1) / FLASH_ROWS);
    }

    static long keyTiles(int maxLength) {
        return Math.max(1, ((long) maxLength + KEY_ROWS - 1) / KEY_ROWS);
    }
}

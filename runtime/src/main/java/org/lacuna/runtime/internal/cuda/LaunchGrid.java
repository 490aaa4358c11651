package org.lacuna.runtime.internal.cuda;

/**
 * Grid sizes of one-dimensional launches, written once: enough blocks to cover the work, or for grid-stride kernels
 * (which loop until the work is done) no more blocks than the device keeps resident.
 */
final class LaunchGrid {
    private LaunchGrid() {
    }

    /** ⌈work / perBlock⌉: blocks covering {@code work} items at {@code perBlock} items each; 0 for no work. */
    static long blocks(long work, long perBlock) {
        if (work < 0 || perBlock < 1) {
            throw new IllegalArgumentException("work " + work + " over blocks of " + perBlock);
        }
        return work / perBlock + (work % perBlock == 0 ? 0 : 1);
    }

    /** Blocks for a grid-stride kernel: {@link #blocks}, at most {@code maxBlocks}; 0 for no work. */
    static long gridStride(long work, long perBlock, long maxBlocks) {
        return Math.min(blocks(work, perBlock), maxBlocks);
    }

    /** As {@link #gridStride}, but at least one block, for kernels that also run (and initialise) on no work. */
    static long gridStrideAtLeastOne(long work, long perBlock, long maxBlocks) {
        return Math.max(1, gridStride(work, perBlock, maxBlocks));
    }
}

package org.lacuna.runtime.internal.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The launches of the one device sort, {@code lacuna_radix_sort.cuh}: a stable LSD radix sort of 64-bit keys each
 * carrying an int, 8 bits a pass over the keys' low bytes, three launches a pass (per-tile digit counts, a one-CTA
 * exclusive scan, a scatter that ranks by counting, so the result does not depend on thread order). The header is
 * compiled into {@code voxelize.cu} (voxels into key order, points by voxel) and {@code sparseconv_map.cu} (a
 * downsampling's keys, the implicit GEMM's row orders, the offsets by pair count); {@code file} picks which module's
 * copy runs, so each family loads one module. Kept apart from the ops so both families, and the kernel emulator's
 * tests, drive the sort alike.
 */
final class RadixSortLaunches {
    static final int DIGITS = 256;
    static final String COUNT = "radix_sort_count";
    static final String SCAN = "radix_sort_scan";
    static final String SCATTER = "radix_sort_scatter";

    private final String file;
    private final int block;
    private final long maxBlocks;

    /** Where the sort's scratch comes from: the call's workspace on the GPU, named buffers in a fixture. */
    @FunctionalInterface
    interface Scratch {
        long acquire(String name, long bytes);
    }

    /** Sorts with {@code file}'s copy of the kernels, compiled with BLOCK = {@code block}. */
    RadixSortLaunches(String file, int block, long maxBlocks) {
        this.file = file;
        this.block = block;
        this.maxBlocks = maxBlocks;
    }

    /** The bytes that hold {@code value} (at least one, so that a sort always makes one pass). */
    static int bytesFor(long value) {
        return bytesForBits(Long.SIZE - Long.numberOfLeadingZeros(Math.max(1, value)));
    }

    /** The bytes that hold {@code bits} low bits (at least one). */
    static int bytesForBits(int bits) {
        return Math.max(1, (bits + 7) / 8);
    }

    /**
     * The launches that sort {@code count} keys at {@code keysIn} by their low {@code bytes} bytes (1 to 8), each
     * carrying its int from {@code valuesIn} (0: its own index), into {@code keysOut} and {@code valuesOut}. Keys
     * that differ only above those bytes keep their input order. The inputs are left as they are and must not
     * overlap the outputs; the passes alternate between the outputs and {@code scratch} so that the
     * last lands in the outputs.
     */
    List<KernelLaunch> sort(Scratch scratch, long keysIn, long valuesIn, long count, int bytes, long keysOut,
                            long valuesOut) {
        if (bytes < 1 || bytes > Long.BYTES) {
            throw new IllegalArgumentException("a radix sort over " + bytes + " key bytes");
        }
        List<KernelLaunch> launches = new ArrayList<>();
        if (count == 0) {
            return launches;
        }
        long tiles = LaunchGrid.blocks(count, block);
        long counts = scratch.acquire("radix_counts", DIGITS * tiles * Integer.BYTES);
        long[] keyTargets = {keysOut, bytes == 1 ? 0 : scratch.acquire("radix_keys", count * Long.BYTES)};
        long[] valueTargets = {valuesOut, bytes == 1 ? 0 : scratch.acquire("radix_values", count * Integer.BYTES)};
        long grid = Math.min(tiles, maxBlocks);
        for (int pass = 0; pass < bytes; pass++) {
            int shift = 8 * pass;
            // The last pass writes the outputs, the one before it the scratch, and so on back to the first.
            int target = (bytes - 1 - pass) & 1;
            launches.add(launch(COUNT, grid, new KernelArguments().address(keysIn).i64(count).i32(shift)
                    .address(counts)));
            launches.add(launch(SCAN, 1, new KernelArguments().address(counts).i64(DIGITS * tiles)));
            launches.add(launch(SCATTER, grid, new KernelArguments().address(keysIn).address(valuesIn).i64(count)
                    .i32(shift).address(counts).address(keyTargets[target]).address(valueTargets[target])));
            keysIn = keyTargets[target];
            valuesIn = valueTargets[target];
        }
        return launches;
    }

    private KernelLaunch launch(String entry, long grid, KernelArguments arguments) {
        return new KernelLaunch(file, entry, Map.of("BLOCK", Integer.toString(block)), grid, 1, block, 0, arguments);
    }
}

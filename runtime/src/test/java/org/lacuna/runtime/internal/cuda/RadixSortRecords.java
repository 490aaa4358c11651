package org.lacuna.runtime.internal.cuda;

import org.lacuna.runtime.testing.EmulationFixture;

/**
 * Records, into a fixture, the launches {@link RadixSortLaunches} makes to sort {@code keys} as one of the CUDA ops
 * sorts them (the same kernel file, block, byte count and pass order), with the result the host side defines
 * beside them: the emulator runs exactly those launches and compares the sorted keys ({@code PREFIXkeys_out}) and
 * carried indices ({@code PREFIXindices_out}) with {@code PREFIXwant_keys} and {@code PREFIXwant_indices}.
 */
public final class RadixSortRecords {
    private RadixSortRecords() {
    }

    /** The voxeliser's key sort ({@code voxelize.cu}'s copy): the M distinct keys on all 8 bytes. */
    public static void voxelKeys(EmulationFixture fixture, String prefix, long[] keys, long[] wantKeys,
                                 int[] wantIndices) {
        record(fixture, prefix, "voxelize.cu", keys, Long.BYTES, wantKeys, wantIndices);
    }

    /** The voxeliser's points-by-voxel sort: voxel indices below {@code voxels}, on the bytes that hold them. */
    public static void pointsByVoxel(EmulationFixture fixture, String prefix, long[] voxelOfPoint, int voxels,
                                     long[] wantKeys, int[] wantIndices) {
        record(fixture, prefix, "voxelize.cu", voxelOfPoint, RadixSortLaunches.bytesFor(voxels - 1L), wantKeys,
                wantIndices);
    }

    /**
     * The map family's sort ({@code sparseconv_map.cu}'s copy) of an implicit-GEMM row order's keys over a group of
     * {@code groupOffsets} offsets, on the bytes {@link CudaConvolutionOps} sorts for such a group.
     */
    public static void rowOrder(EmulationFixture fixture, String prefix, long[] keys, int groupOffsets,
                                long[] wantKeys, int[] wantIndices) {
        record(fixture, prefix, "sparseconv_map.cu", keys, RadixSortLaunches.bytesForBits(Math.min(groupOffsets, 64)),
                wantKeys, wantIndices);
    }

    private static void record(EmulationFixture fixture, String prefix, String file, long[] keys, int bytes,
                               long[] wantKeys, int[] wantIndices) {
        LaunchRecorder recorder = new LaunchRecorder(fixture, prefix);
        long in = recorder.upload("keys", keys);
        long keysOut = recorder.acquire("keys_out", keys.length * (long) Long.BYTES);
        long indicesOut = recorder.acquire("indices_out", keys.length * (long) Integer.BYTES);
        // One multiprocessor's worth of blocks (8): several CTAs striding over the tiles, as on a small device.
        recorder.write(new RadixSortLaunches(file, 256, 8).sort(recorder::acquire, in, 0L, keys.length, bytes, keysOut,
                indicesOut));
        fixture.array(prefix + "want_keys", wantKeys).array(prefix + "want_indices", wantIndices);
    }
}

package org.lacuna.runtime.ops;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;

/**
 * Sparse tensors for the conformance of the voxelisation family's ops on device arrays: distinct coordinates in
 * shuffled row order (no op may assume sorted rows), samples that may be empty, and the voxels of a real cloud.
 */
public final class SparseCases {
    /** I32 [N, 4] coordinates, row-major, and how many samples they span (some possibly empty). */
    public record Coordinates(int[] values, int batches) {
        public int rows() {
            return values.length / 4;
        }
    }

    private SparseCases() {
    }

    /**
     * About {@code rows} distinct coordinates, multiples of {@code stride}, in [lo, lo + extent) per axis (in stride
     * units), over {@code batches} samples of which those in {@code empty} get none.
     */
    public static Coordinates random(SplittableRandom random, int rows, int batches, Set<Integer> empty, int[] lo,
                              int[] extent, int[] stride) {
        Set<Long> keys = new LinkedHashSet<>();
        List<Integer> used = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            if (!empty.contains(b)) {
                used.add(b);
            }
        }
        for (int attempt = 0; keys.size() < rows && attempt < 20 * rows; attempt++) {
            int b = used.get(random.nextInt(used.size()));
            int x = (lo[0] + random.nextInt(extent[0])) * stride[0];
            int y = (lo[1] + random.nextInt(extent[1])) * stride[1];
            int z = (lo[2] + random.nextInt(extent[2])) * stride[2];
            keys.add(CoordinateKey.pack(b, x, y, z));
        }
        List<Long> shuffled = new ArrayList<>(keys);
        Collections.shuffle(shuffled, new java.util.Random(random.nextLong()));
        return new Coordinates(rowsOf(shuffled), batches);
    }

    /** The voxels of a voxelised cloud, in their (sorted) order. */
    public static Coordinates of(VoxelizedCloud voxels) {
        List<Long> keys = new ArrayList<>();
        int batches = 0;
        for (int v = 0; v < voxels.voxelCount(); v++) {
            keys.add(voxels.key(v));
            batches = Math.max(batches, CoordinateKey.batch(voxels.key(v)) + 1);
        }
        return new Coordinates(rowsOf(keys), batches);
    }

    private static int[] rowsOf(List<Long> keys) {
        int[] out = new int[4 * keys.size()];
        for (int r = 0; r < keys.size(); r++) {
            long key = keys.get(r);
            out[4 * r] = CoordinateKey.batch(key);
            out[4 * r + 1] = CoordinateKey.x(key);
            out[4 * r + 2] = CoordinateKey.y(key);
            out[4 * r + 3] = CoordinateKey.z(key);
        }
        return out;
    }
}

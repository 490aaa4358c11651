package org.lacuna.runtime.cpu;

import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.pointcloud.CoordinateKey;

/**
 * What both CPU backends' point-cloud ops read off arrays in CPU memory: a sparse tensor's coordinates as rows of
 * (batch, x, y, z) and their keys, and F32 point positions.
 */
final class SparseRows {
    private SparseRows() {
    }

    /** The I32 [N, 4] coordinates, row-major. */
    static int[] coordinates(DeviceArray coordinates, String call) {
        return CpuTokenSelection.readInts(coordinates, call);
    }

    /** An F32 array's values. */
    static float[] floats(DeviceArray array, String call) {
        return CpuTokenSelection.readFloats(array, call);
    }

    /** The keys of the coordinate rows (distinct, as a sparse tensor's coordinates are). */
    static long[] keys(int[] coordinates) {
        long[] keys = new long[coordinates.length / 4];
        for (int row = 0; row < keys.length; row++) {
            int at = 4 * row;
            keys[row] = CoordinateKey.packInRange(coordinates[at], coordinates[at + 1], coordinates[at + 2],
                    coordinates[at + 3]);
        }
        return keys;
    }
}

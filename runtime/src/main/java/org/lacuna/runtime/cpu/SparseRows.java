package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
        MemorySegment segment = ((CpuBuffer) coordinates.buffer()).segment(call);
        int n = Math.toIntExact(coordinates.elementCount());
        int[] out = new int[n];
        MemorySegment.copy(segment, ValueLayout.JAVA_INT_UNALIGNED, coordinates.byteOffset(), out, 0, n);
        return out;
    }

    /** An F32 array's values. */
    static float[] floats(DeviceArray array, String call) {
        MemorySegment segment = ((CpuBuffer) array.buffer()).segment(call);
        int n = Math.toIntExact(array.elementCount());
        float[] out = new float[n];
        MemorySegment.copy(segment, ValueLayout.JAVA_FLOAT_UNALIGNED, array.byteOffset(), out, 0, n);
        return out;
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

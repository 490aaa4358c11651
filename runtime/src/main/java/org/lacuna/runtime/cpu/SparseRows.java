package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.ops.BevGrid;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * What both CPU backends' point-cloud ops read off a sparse tensor in CPU memory: its coordinates as rows of
 * (batch, x, y, z), and the dense cell index of a bird's-eye view. Shared so that the serving backend and the
 * reference place every row alike and differ only in their arithmetic.
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

    /**
     * The row in each cell of the dense [batches, Z, Y, X] grid, -1 where none: a row outside the grid or the batch
     * range is left out, as {@link org.lacuna.runtime.ops.VoxelizationOps#bevProject} says.
     */
    static int[] bevIndex(int[] coordinates, Int3 stride, BevGrid grid, long batches, String call) {
        Int3 cells = grid.cells();
        long size = batches * cells.product();
        if (size > Integer.MAX_VALUE - 8) {
            throw new NotSupportedException(call, "the cell index of " + batches + " × " + cells
                    + " cells exceeds a CPU array");
        }
        int[] index = new int[(int) size];
        Arrays.fill(index, -1);
        for (int row = 0; row < coordinates.length / 4; row++) {
            int b = coordinates[4 * row];
            long ix = grid.cell(0, coordinates[4 * row + 1], stride.x());
            long iy = grid.cell(1, coordinates[4 * row + 2], stride.y());
            long iz = grid.cell(2, coordinates[4 * row + 3], stride.z());
            if (b >= 0 && b < batches && grid.contains(0, ix) && grid.contains(1, iy) && grid.contains(2, iz)) {
                index[(int) (((b * (long) cells.z() + iz) * cells.y() + iy) * cells.x() + ix)] = row;
            }
        }
        return index;
    }
}

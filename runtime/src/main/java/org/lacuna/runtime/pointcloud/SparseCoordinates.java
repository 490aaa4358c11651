package org.lacuna.runtime.pointcloud;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * The rules a sparse tensor's coordinates obey, checked on the host: rows of (batch, x, y, z), each representable as
 * a {@link CoordinateKey}, x, y and z multiples of the tensor stride, and no coordinate twice.
 */
public final class SparseCoordinates {
    private SparseCoordinates() {
    }

    /** A copy of {@code stride} after checking it has three positive entries. */
    public static int[] checkTensorStride(String call, int[] stride) {
        if (stride == null || stride.length != 3) {
            throw InvalidInputException.shape(call, "the tensor stride needs 3 entries (x, y, z), got "
                    + Arrays.toString(stride));
        }
        for (int s : stride) {
            if (s < 1) {
                throw InvalidInputException.argument(call, "tensor stride " + Arrays.toString(stride)
                        + " must be positive on every axis");
            }
        }
        return stride.clone();
    }

    /**
     * Checks {@code coordinates}, [N, 4] row-major, against the rules and returns the N keys in row order.
     * A repeated coordinate is reported at its first repetition in row order, with the row it repeats.
     */
    public static long[] check(String call, int[] coordinates, int[] tensorStride) {
        int[] stride = checkTensorStride(call, tensorStride);
        if (coordinates.length % 4 != 0) {
            throw InvalidInputException.shape(call, coordinates.length + " coordinate values are not rows of 4 "
                    + "(batch, x, y, z)");
        }
        int n = coordinates.length / 4;
        long[] keys = new long[n];
        for (int row = 0; row < n; row++) {
            int batch = coordinates[4 * row];
            int x = coordinates[4 * row + 1];
            int y = coordinates[4 * row + 2];
            int z = coordinates[4 * row + 3];
            if (!CoordinateKey.fits(batch, x, y, z)) {
                throw InvalidInputException.argument(call, "row " + row + " " + Arrays.toString(new int[] {batch, x,
                        y, z}) + " is outside the representable range: batch [0, " + CoordinateKey.MAX_BATCH
                        + "], x, y, z [" + CoordinateKey.MIN_COORDINATE + ", " + CoordinateKey.MAX_COORDINATE + "]");
            }
            if (x % stride[0] != 0 || y % stride[1] != 0 || z % stride[2] != 0) {
                throw InvalidInputException.argument(call, "row " + row + " " + Arrays.toString(new int[] {batch, x,
                        y, z}) + " is not on the grid of tensor stride " + Arrays.toString(stride)
                        + ": x, y, z must be multiples of the stride");
            }
            keys[row] = CoordinateKey.packInRange(batch, x, y, z);
        }
        requireDistinct(call, keys);
        return keys;
    }

    /** Fails naming the first repeated key in row order; sorting first keeps the common, valid case cheap. */
    public static void requireDistinct(String call, long[] keys) {
        long[] sorted = new long[keys.length];
        for (int i = 0; i < keys.length; i++) {
            sorted[i] = CoordinateKey.signedOrder(keys[i]);
        }
        Arrays.parallelSort(sorted);
        boolean repeated = false;
        for (int i = 1; i < sorted.length && !repeated; i++) {
            repeated = sorted[i] == sorted[i - 1];
        }
        if (!repeated) {
            return;
        }
        Map<Long, Integer> firstRow = new HashMap<>();
        for (int row = 0; row < keys.length; row++) {
            Integer earlier = firstRow.putIfAbsent(keys[row], row);
            if (earlier != null) {
                throw InvalidInputException.argument(call, "duplicate coordinate: row " + row + " repeats "
                        + CoordinateKey.describe(keys[row]) + " (batch, x, y, z) of row " + earlier
                        + "; a sparse tensor holds each coordinate once");
            }
        }
        throw new IllegalStateException("sorted keys repeat but no row does");
    }
}

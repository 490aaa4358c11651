package org.lacuna.runtime.pointcloud;

import org.lacuna.runtime.error.InvalidInputException;

/**
 * Packs a sparse-tensor coordinate (batch, x, y, z) into one 64-bit key, the form the voxeliser sorts and the GPU
 * hash table stores. The bit budget, most significant bits first:
 *
 * <pre>
 *   bits 63..48  batch  unsigned, 0 .. 65534 ({@link #MAX_BATCH})
 *   bits 47..32  x      signed, -32768 .. 32767, stored as x + 32768
 *   bits 31..16  y      signed, likewise
 *   bits 15..0   z      signed, likewise
 * </pre>
 *
 * Storing x, y and z with a bias of 32768 makes the key's <em>unsigned</em> order exactly the lexicographic order of
 * (batch, x, y, z), so sorting keys sorts coordinates, on the host ({@link #compare}) and on the device (a plain
 * {@code unsigned long long} comparison). Batch 65535 is kept out of range so that the all-ones key, {@link #EMPTY},
 * never names a coordinate and can mark a free hash-table slot.
 */
public final class CoordinateKey {
    public static final int BATCH_BITS = 16;
    public static final int COORDINATE_BITS = 16;
    public static final int MAX_BATCH = (1 << BATCH_BITS) - 2;
    public static final int MIN_COORDINATE = -(1 << (COORDINATE_BITS - 1));
    public static final int MAX_COORDINATE = (1 << (COORDINATE_BITS - 1)) - 1;
    /** Never the key of a coordinate: free hash slots, invalid points. */
    public static final long EMPTY = -1L;

    private static final int BIAS = 1 << (COORDINATE_BITS - 1);
    private static final long FIELD_MASK = (1L << COORDINATE_BITS) - 1;
    private static final int X_SHIFT = 2 * COORDINATE_BITS;
    private static final int Y_SHIFT = COORDINATE_BITS;
    private static final int BATCH_SHIFT = 3 * COORDINATE_BITS;

    private CoordinateKey() {
    }

    /** The key of (batch, x, y, z); fails naming the component that does not fit its bits. */
    public static long pack(int batch, int x, int y, int z) {
        String call = "CoordinateKey.pack";
        if (batch < 0 || batch > MAX_BATCH) {
            throw InvalidInputException.argument(call, "batch " + batch + " is outside [0, " + MAX_BATCH + "] ("
                    + BATCH_BITS + " bits, the top value reserved)");
        }
        checkCoordinate(call, "x", x);
        checkCoordinate(call, "y", y);
        checkCoordinate(call, "z", z);
        return packInRange(batch, x, y, z);
    }

    /** Whether {@link #pack} accepts these values. */
    public static boolean fits(int batch, int x, int y, int z) {
        return batch >= 0 && batch <= MAX_BATCH && fitsCoordinate(x) && fitsCoordinate(y) && fitsCoordinate(z);
    }

    public static boolean fitsCoordinate(long value) {
        return value >= MIN_COORDINATE && value <= MAX_COORDINATE;
    }

    public static int batch(long key) {
        return (int) (key >>> BATCH_SHIFT);
    }

    public static int x(long key) {
        return (int) ((key >>> X_SHIFT) & FIELD_MASK) - BIAS;
    }

    public static int y(long key) {
        return (int) ((key >>> Y_SHIFT) & FIELD_MASK) - BIAS;
    }

    public static int z(long key) {
        return (int) (key & FIELD_MASK) - BIAS;
    }

    /** The order of coordinates: batch first, then x, y, z. */
    public static int compare(long a, long b) {
        return Long.compareUnsigned(a, b);
    }

    /**
     * The key with its top bit flipped: signed comparison of flipped keys is unsigned comparison of keys, which lets
     * {@link java.util.Arrays#sort(long[])} and {@link java.util.Arrays#binarySearch(long[], long)} sort coordinates.
     * Its own inverse.
     */
    public static long signedOrder(long key) {
        return key ^ Long.MIN_VALUE;
    }

    /** The keys as [keys.length, 4] row-major int rows of (batch, x, y, z), in the keys' order. */
    public static int[] unpackRows(long[] keys) {
        int[] out = new int[4 * keys.length];
        for (int row = 0; row < keys.length; row++) {
            long key = keys[row];
            out[4 * row] = batch(key);
            out[4 * row + 1] = x(key);
            out[4 * row + 2] = y(key);
            out[4 * row + 3] = z(key);
        }
        return out;
    }

    /** {@code (batch, x, y, z)}, for messages. */
    public static String describe(long key) {
        return "(" + batch(key) + ", " + x(key) + ", " + y(key) + ", " + z(key) + ")";
    }

    /** Packs values the caller has already range-checked ({@link #fits}): no check, for per-point loops. */
    public static long packInRange(int batch, int x, int y, int z) {
        return ((long) batch << BATCH_SHIFT)
                | ((long) (x + BIAS) << X_SHIFT)
                | ((long) (y + BIAS) << Y_SHIFT)
                | (long) (z + BIAS);
    }

    private static void checkCoordinate(String call, String axis, int value) {
        if (!fitsCoordinate(value)) {
            throw InvalidInputException.argument(call, axis + " = " + value + " is outside [" + MIN_COORDINATE + ", "
                    + MAX_COORDINATE + "] (" + COORDINATE_BITS + " bits, signed)");
        }
    }
}

package org.lacuna.runtime.sparseconv;

import java.util.Arrays;

/**
 * The arrays of a kernel map, as a map builder produces them on either side: the [rows, volume] neighbour table
 * (input row or -1), the [rows, maskWords] bitmasks (bit v of a row: offset v reaches it), and the offset-major pair
 * lists (pairs of offset v at {@code [pairStart[v], pairStart[v + 1])}, in output-row order). Arrays are shared, not
 * copied: treat them as read-only.
 */
public record MapTables(int volume, int[] neighbours, long[] masks, long[] pairStart, int[] pairInputs,
                        int[] pairOutputs) {
    /**
     * A neighbour table of {@code rows × volume} entries, refused where it would pass a Java array's 2^31 entries.
     *
     * @param call the builder, named in the error
     */
    public static int[] neighbourTable(int rows, int volume, String call) {
        long cells = (long) rows * volume;
        if (cells > Integer.MAX_VALUE - 8) {
            throw new org.lacuna.runtime.error.NotSupportedException(call, rows + " outputs × " + volume
                    + " offsets exceed the host map's 2^31-entry table");
        }
        return new int[(int) cells];
    }

    /** Derives the masks and the pair lists from a neighbour table, as the GPU's pair kernels do. */
    public static MapTables fromNeighbours(int[] neighbours, int volume) {
        int rows = neighbours.length / volume;
        int words = KernelMap.wordsFor(volume);
        long[] masks = new long[Math.multiplyExact(rows, words)];
        long[] counts = new long[volume];
        for (int row = 0; row < rows; row++) {
            long base = (long) row * volume;
            for (int v = 0; v < volume; v++) {
                if (neighbours[(int) (base + v)] >= 0) {
                    counts[v]++;
                    masks[row * words + (v >>> 6)] |= 1L << (v & 63);
                }
            }
        }
        long[] pairStart = new long[volume + 1];
        for (int v = 0; v < volume; v++) {
            pairStart[v + 1] = pairStart[v] + counts[v];
        }
        int total = Math.toIntExact(pairStart[volume]);
        int[] pairInputs = new int[total];
        int[] pairOutputs = new int[total];
        long[] next = Arrays.copyOf(pairStart, volume);
        for (int row = 0; row < rows; row++) {
            long base = (long) row * volume;
            for (int v = 0; v < volume; v++) {
                int in = neighbours[(int) (base + v)];
                if (in >= 0) {
                    int at = (int) next[v]++;
                    pairInputs[at] = in;
                    pairOutputs[at] = row;
                }
            }
        }
        return new MapTables(volume, neighbours, masks, pairStart, pairInputs, pairOutputs);
    }

    /** Whether both hold the same map, array by array. */
    public boolean sameAs(MapTables other) {
        return volume == other.volume && Arrays.equals(neighbours, other.neighbours)
                && Arrays.equals(masks, other.masks) && Arrays.equals(pairStart, other.pairStart)
                && Arrays.equals(pairInputs, other.pairInputs) && Arrays.equals(pairOutputs, other.pairOutputs);
    }

    /** The first array that differs from {@code other}, for failure messages; "none" if all agree. */
    public String firstDifference(MapTables other) {
        if (volume != other.volume) {
            return "volume";
        }
        if (!Arrays.equals(neighbours, other.neighbours)) {
            return "neighbours at " + Arrays.mismatch(neighbours, other.neighbours);
        }
        if (!Arrays.equals(masks, other.masks)) {
            return "masks at " + Arrays.mismatch(masks, other.masks);
        }
        if (!Arrays.equals(pairStart, other.pairStart)) {
            return "pairStart at " + Arrays.mismatch(pairStart, other.pairStart);
        }
        if (!Arrays.equals(pairInputs, other.pairInputs)) {
            return "pairInputs at " + Arrays.mismatch(pairInputs, other.pairInputs);
        }
        if (!Arrays.equals(pairOutputs, other.pairOutputs)) {
            return "pairOutputs at " + Arrays.mismatch(pairOutputs, other.pairOutputs);
        }
        return "none";
    }
}

package org.lacuna.runtime.cpu;

/**
 * The rows of each batch sample of a sparse tensor, in row order, as {@link
 * org.lacuna.runtime.ops.VoxelizationOps#batchPool} reduces them (a row whose batch index the output cannot hold is
 * left out). Both CPU backends share it, so they differ only in their arithmetic.
 */
final class SampleRows {
    private final int[] start;
    private final int[] rows;

    SampleRows(int[] coordinates, int samples) {
        int n = coordinates.length / 4;
        start = new int[samples + 1];
        for (int r = 0; r < n; r++) {
            int b = coordinates[4 * r];
            if (b >= 0 && b < samples) {
                start[b + 1]++;
            }
        }
        for (int b = 0; b < samples; b++) {
            start[b + 1] += start[b];
        }
        rows = new int[start[samples]];
        int[] fill = start.clone();
        for (int r = 0; r < n; r++) {
            int b = coordinates[4 * r];
            if (b >= 0 && b < samples) {
                rows[fill[b]++] = r;
            }
        }
    }

    /** How many rows sample {@code b} holds. */
    int count(int b) {
        return start[b + 1] - start[b];
    }

    /** The {@code k}-th row of sample {@code b}. */
    int row(int b, int k) {
        return rows[start[b] + k];
    }
}

package org.lacuna.runtime.cpu;

import java.util.Arrays;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.ops.BevGrid;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * Which rows feed each element of a bird's-eye view, as {@link org.lacuna.runtime.ops.VoxelizationOps#bevProject}
 * defines it: the row in each cell of the dense [batches, Z, Y, X] grid (a row outside the grid or the batch range
 * is left out), read per output element in ascending z. Both CPU backends share it (and {@code voxelize.cu} does the
 * same in the same order), so they differ only in their arithmetic.
 */
final class BevCells {
    private final int[] index;
    private final long plane;
    private final int cz;
    private final long outChannels;
    private final BevReduction reduction;

    BevCells(int[] coordinates, Int3 stride, BevGrid grid, long batches, long channels, BevReduction reduction,
             String call) {
        Int3 cells = grid.cells();
        long size = batches * cells.product();
        if (size > Integer.MAX_VALUE - 8) {
            throw new NotSupportedException(call, "the cell index of " + batches + " × " + cells
                    + " cells exceeds a CPU array");
        }
        this.index = new int[(int) size];
        this.plane = (long) cells.y() * cells.x();
        this.cz = cells.z();
        this.outChannels = grid.outputChannels(channels, reduction);
        this.reduction = reduction;
        Arrays.fill(index, -1);
        for (int row = 0; row < coordinates.length / 4; row++) {
            int b = coordinates[4 * row];
            long ix = grid.cell(0, coordinates[4 * row + 1], stride.x());
            long iy = grid.cell(1, coordinates[4 * row + 2], stride.y());
            long iz = grid.cell(2, coordinates[4 * row + 3], stride.z());
            if (b >= 0 && b < batches && grid.contains(0, ix) && grid.contains(1, iy) && grid.contains(2, iz)) {
                index[(int) ((b * (long) cz + iz) * plane + iy * cells.x() + ix)] = row;
            }
        }
    }

    /** The feature channel that output element {@code e} reads. */
    long channel(long e) {
        long channel = e / plane % outChannels;
        return reduction == BevReduction.STACK_Z ? channel / cz : channel;
    }

    /** Fills {@code rows} (at least Z long) with the rows output element {@code e} reduces, in ascending z. */
    int rows(long e, int[] rows) {
        long pixel = e % plane;
        long channel = e / plane % outChannels;
        long b = e / (plane * outChannels);
        int found = 0;
        int from = reduction == BevReduction.STACK_Z ? (int) (channel % cz) : 0;
        int to = reduction == BevReduction.STACK_Z ? from + 1 : cz;
        for (int z = from; z < to; z++) {
            int row = index[(int) ((b * cz + z) * plane + pixel)];
            if (row >= 0) {
                rows[found++] = row;
            }
        }
        return found;
    }

    /** The longest list {@link #rows} returns. */
    int depth() {
        return cz;
    }
}

package org.lacuna.api.layers;

import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * Sparse → dense bird's-eye view: scatters a sparse tensor onto a dense grid of the given extent and collapses z.
 * A coordinate (b, x, y, z) at tensor stride s lands in cell ((x − ox) / s, (y − oy) / s, (z − oz) / s) (floored) of a
 * grid {@code cells} = (X, Y, Z) cells of the input's stride, with {@code origin} = (ox, oy, oz) in stride-1 units.
 * <ul>
 *   <li>{@link Mode#STACK_Z}: F32 [batch, C·Z, Y, X] with channel c·Z + z, SECOND's and CenterPoint's height
 *       compression (the dense [N, C, D, H, W] volume viewed as [N, C·D, H, W]);</li>
 *   <li>{@link Mode#SUM}, {@link Mode#MAX}: F32 [batch, C, Y, X], summing or maxing over z; an empty column is 0.</li>
 * </ul>
 * A coordinate outside the extent fails naming it (silently dropping it would hide a wrong extent).
 *
 * <p>Computes on the host from downloaded coordinates and features until a device scatter exists.
 */
public final class BevProjection {
    public enum Mode {
        STACK_Z, SUM, MAX
    }

    private final Int3 origin;
    private final Int3 cells;
    private final Mode mode;

    public BevProjection(Int3 origin, Int3 cells, Mode mode) {
        String call = "BevProjection";
        if (origin == null || mode == null) {
            throw InvalidInputException.argument(call, "origin and mode are required");
        }
        if (cells == null || cells.x() < 1 || cells.y() < 1 || cells.z() < 1) {
            throw InvalidInputException.argument(call, "grid extent " + cells + " must be positive on every axis");
        }
        if (cells.product() > Integer.MAX_VALUE / 4) {
            throw InvalidInputException.argument(call, "grid extent " + cells + " is too large for one dense map");
        }
        this.origin = origin;
        this.cells = cells;
        this.mode = mode;
    }

    public Tensor forward(SparseTensor x) {
        SparseHost.requireOpen("BevProjection.forward", x);
        int[] coordinates = x.coordinateSet().coordinates();
        return project(x, coordinates, SparseHost.batchCount(coordinates));
    }

    /** Projects into exactly {@code batches} maps, so that trailing empty samples still get their (zero) map. */
    public Tensor forward(SparseTensor x, int batches) {
        String call = "BevProjection.forward";
        SparseHost.requireOpen(call, x);
        int[] coordinates = x.coordinateSet().coordinates();
        if (batches < SparseHost.batchCount(coordinates)) {
            throw InvalidInputException.argument(call, "batch index " + (SparseHost.batchCount(coordinates) - 1)
                    + " does not fit " + batches + " samples");
        }
        return project(x, coordinates, batches);
    }

    /** The channels of the output map for {@code inputChannels} input channels. */
    public long outputChannels(long inputChannels) {
        return mode == Mode.STACK_Z ? inputChannels * cells.z() : inputChannels;
    }

    private Tensor project(SparseTensor x, int[] coordinates, int batches) {
        String call = "BevProjection.forward";
        int c = (int) x.channels();
        int[] stride = x.tensorStride();
        int cx = cells.x();
        int cy = cells.y();
        int cz = cells.z();
        long outChannels = outputChannels(c);
        long total = batches * outChannels * cy * cx;
        if (total > Integer.MAX_VALUE - 8) {
            throw InvalidInputException.argument(call, "the dense map [" + batches + ", " + outChannels + ", " + cy
                    + ", " + cx + "] is too large for the host path");
        }
        float[] features = x.features().toFloatArray();
        float[] out = new float[(int) total];
        boolean[] seen = mode == Mode.MAX ? new boolean[out.length] : null;
        int planeSize = cy * cx;
        for (int row = 0; row < coordinates.length / 4; row++) {
            int b = coordinates[4 * row];
            int ix = Math.floorDiv(coordinates[4 * row + 1] - origin.x(), stride[0]);
            int iy = Math.floorDiv(coordinates[4 * row + 2] - origin.y(), stride[1]);
            int iz = Math.floorDiv(coordinates[4 * row + 3] - origin.z(), stride[2]);
            if (ix < 0 || ix >= cx || iy < 0 || iy >= cy || iz < 0 || iz >= cz) {
                throw InvalidInputException.argument(call, "row " + row + " at (" + b + ", "
                        + coordinates[4 * row + 1] + ", " + coordinates[4 * row + 2] + ", " + coordinates[4 * row + 3]
                        + ") falls in cell (" + ix + ", " + iy + ", " + iz + "), outside the grid of " + cells
                        + " cells from origin " + origin + " at tensor stride " + java.util.Arrays.toString(stride));
            }
            int pixel = iy * cx + ix;
            for (int ch = 0; ch < c; ch++) {
                float v = features[row * c + ch];
                int plane = mode == Mode.STACK_Z ? ch * cz + iz : ch;
                int o = (int) ((b * outChannels + plane) * planeSize + pixel);
                switch (mode) {
                    case STACK_Z -> out[o] = v;
                    case SUM -> out[o] += v;
                    case MAX -> {
                        out[o] = seen[o] ? Math.max(out[o], v) : v;
                        seen[o] = true;
                    }
                }
            }
        }
        return x.session().fromFloats(out, DType.F32, batches, outChannels, cy, cx);
    }

    public Int3 origin() {
        return origin;
    }

    public Int3 cells() {
        return cells;
    }

    public Mode mode() {
        return mode;
    }

    @Override
    public String toString() {
        return "BevProjection[" + mode + ", " + cells + " cells from " + origin + "]";
    }
}

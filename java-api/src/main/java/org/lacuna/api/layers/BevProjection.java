package org.lacuna.api.layers;

import java.util.Arrays;
import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.ops.BevGrid;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * Sparse → dense bird's-eye view: scatters a sparse tensor onto a dense grid of the given extent and collapses z.
 * A coordinate (b, x, y, z) at tensor stride s lands in cell ((x − ox) / s, (y − oy) / s, (z − oz) / s) (floored) of a
 * grid {@code cells} = (X, Y, Z) cells of the input's stride, with {@code origin} = (ox, oy, oz) in stride-1 units.
 * <ul>
 *   <li>{@link BevReduction#STACK_Z}: F32 [batch, C·Z, Y, X] with channel c·Z + z, SECOND's and CenterPoint's height
 *       compression (the dense [N, C, D, H, W] volume viewed as [N, C·D, H, W]);</li>
 *   <li>{@link BevReduction#SUM}, {@link BevReduction#MAX}: F32 [batch, C, Y, X], summing (in ascending z) or maxing over z; an
 *       empty column is 0.</li>
 * </ul>
 * A coordinate outside the extent fails naming it (silently dropping it would hide a wrong extent); the check reads
 * the coordinate set the host holds. The projection runs on the device through
 * {@link org.lacuna.runtime.ops.VoxelizationOps#bevProject}.
 */
public final class BevProjection {
    private static final String FORWARD = "BevProjection.forward";

    private final BevGrid grid;
    private final BevReduction reduction;

    public BevProjection(Int3 origin, Int3 cells, BevReduction reduction) {
        String call = "BevProjection";
        if (origin == null || reduction == null) {
            throw InvalidInputException.argument(call, "origin and reduction are required");
        }
        if (cells == null || cells.x() < 1 || cells.y() < 1 || cells.z() < 1) {
            throw InvalidInputException.argument(call, "grid extent " + cells + " must be positive on every axis");
        }
        if (cells.product() > Integer.MAX_VALUE / 4) {
            throw InvalidInputException.argument(call, "grid extent " + cells + " is too large for one dense map");
        }
        this.grid = new BevGrid(origin, cells);
        this.reduction = reduction;
    }

    public Tensor forward(SparseTensor x) {
        return project(FORWARD, x, SparseHost.batchCount(FORWARD, x));
    }

    /** Projects into exactly {@code batches} maps, so that trailing empty samples still get their (zero) map. */
    public Tensor forward(SparseTensor x, int batches) {
        return project(FORWARD, x, SparseHost.requireBatches(FORWARD, x, batches));
    }

    /** The channels of the output map for {@code inputChannels} input channels. */
    public long outputChannels(long inputChannels) {
        return grid.outputChannels(inputChannels, reduction);
    }

    private Tensor project(String call, SparseTensor x, int batches) {
        int[] stride = x.tensorStride();
        requireInsideGrid(call, x.coordinateSet(), stride);
        Int3 cells = grid.cells();
        long outChannels = outputChannels(x.channels());
        Tensor out = x.session().empty(DType.F32, batches, outChannels, cells.y(), cells.x());
        try {
            x.session().backend().ops().voxelization().bevProject(x.features().array(call),
                    x.coordinates().array(call), Int3.of(stride[0], stride[1], stride[2]), grid, reduction,
                    out.array(call));
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    private void requireInsideGrid(String call, CoordinateSet set, int[] stride) {
        for (int row = 0; row < set.size(); row++) {
            long key = set.key(row);
            int[] at = {CoordinateKey.x(key), CoordinateKey.y(key), CoordinateKey.z(key)};
            long[] cell = new long[3];
            boolean inside = true;
            for (int a = 0; a < 3; a++) {
                cell[a] = grid.cell(a, at[a], stride[a]);
                inside &= grid.contains(a, cell[a]);
            }
            if (!inside) {
                throw InvalidInputException.argument(call, "row " + row + " at (" + CoordinateKey.batch(key) + ", "
                        + at[0] + ", " + at[1] + ", " + at[2] + ") falls in cell (" + cell[0] + ", " + cell[1] + ", "
                        + cell[2] + "), outside the grid of " + grid.cells() + " cells from origin " + grid.origin()
                        + " at tensor stride " + Arrays.toString(stride));
            }
        }
    }

    public Int3 origin() {
        return grid.origin();
    }

    public Int3 cells() {
        return grid.cells();
    }

    public BevReduction reduction() {
        return reduction;
    }

    @Override
    public String toString() {
        return "BevProjection[" + reduction + ", " + grid.cells() + " cells from " + grid.origin() + "]";
    }
}

package org.lacuna.runtime.cpu;

import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.sparseconv.CoordinateIndex;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * Which voxels a point reads and with which weights, as {@link
 * org.lacuna.runtime.ops.VoxelizationOps#devoxelize} defines it: both CPU backends share it (and {@code voxelize.cu}
 * computes it the same way, in the same order), so they differ only in how they sum the features.
 */
final class PointVoxels {
    private final CoordinateIndex index;
    private final double[] size;
    private final int[] stride;
    private final PointInterpolation interpolation;
    private final float[] xyz;
    private final int[] batches;

    /** Reads the sparse tensor's coordinates and the points (F32 [P, 3], I32 [P]) from CPU memory. */
    PointVoxels(DeviceArray coordinates, Int3 tensorStride, DeviceArray points, DeviceArray pointBatches,
                Voxelization voxelization, PointInterpolation interpolation, String call) {
        this.index = new CoordinateIndex(SparseRows.keys(SparseRows.coordinates(coordinates, call)));
        this.xyz = SparseRows.floats(points, call);
        this.batches = SparseRows.coordinates(pointBatches, call);
        this.size = new double[] {voxelization.sizeX(), voxelization.sizeY(), voxelization.sizeZ()};
        this.stride = tensorStride.toArray();
        this.interpolation = interpolation;
    }

    /**
     * The voxels (rows) around point {@code point} and their weights, not yet normalised, in corner order; returns how many
     * (0 when none is present). {@code rows} and {@code weights} hold at least 8.
     */
    int corners(int point, int[] rows, double[] weights) {
        int batch = batches[point];
        double[] g = {xyz[3 * point] / size[0], xyz[3 * point + 1] / size[1], xyz[3 * point + 2] / size[2]};
        if (interpolation == PointInterpolation.NEAREST) {
            int row = find(batch, cell(g[0], stride[0]), cell(g[1], stride[1]), cell(g[2], stride[2]));
            if (row < 0) {
                return 0;
            }
            rows[0] = row;
            weights[0] = 1;
            return 1;
        }
        long[] base = new long[3];
        double[] frac = new double[3];
        for (int a = 0; a < 3; a++) {
            double u = (g[a] - stride[a] / 2.0) / stride[a];
            double k = Math.floor(u);
            base[a] = (long) k;
            frac[a] = u - k;
        }
        int found = 0;
        for (int corner = 0; corner < 8; corner++) {
            double w = 1;
            long[] v = new long[3];
            for (int a = 0; a < 3; a++) {
                int d = corner >> (2 - a) & 1;
                w *= d == 0 ? 1 - frac[a] : frac[a];
                v[a] = (base[a] + d) * stride[a];
            }
            if (!(w > 0)) {
                continue;
            }
            int row = find(batch, v[0], v[1], v[2]);
            if (row >= 0) {
                rows[found] = row;
                weights[found] = w;
                found++;
            }
        }
        return found;
    }

    /** The voxel coordinate (a multiple of the stride) of the cell containing g. */
    static long cell(double g, int stride) {
        return Math.floorDiv((long) Math.floor(g), stride) * stride;
    }

    private int find(int batch, long x, long y, long z) {
        if (!CoordinateKey.fitsCoordinate(x) || !CoordinateKey.fitsCoordinate(y) || !CoordinateKey.fitsCoordinate(z)
                || batch < 0 || batch > CoordinateKey.MAX_BATCH) {
            return -1;
        }
        return index.find(CoordinateKey.pack(batch, (int) x, (int) y, (int) z));
    }
}

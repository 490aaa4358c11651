package org.lacuna.api.layers;

import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * Voxel features back to the points they came from: an [P, C] tensor (the voxels' feature type), one row per point
 * of the cloud, in the cloud's order.
 *
 * <p>Points are placed on the grid as {@link Voxelization} does: a point p is at g = p / size in stride-1 voxel
 * units, and a voxel at coordinate v (a multiple of the tensor stride s) covers [v, v + s) with its centre at
 * v + s/2.
 * <ul>
 *   <li>{@link PointInterpolation#NEAREST}: the voxel that contains the point (floor(g) floored to the stride).</li>
 *   <li>{@link PointInterpolation#TRILINEAR}: the 8 voxel centres around the point, weighted by the trilinear weights
 *       ∏ (1 − |u − k|) with u = (g − s/2) / s; neighbours absent from the sparse tensor are skipped and the
 *       remaining weights renormalised to sum to one, so a point between occupied and empty space takes the
 *       occupied voxels' features rather than being pulled toward zero.</li>
 * </ul>
 * The voxel containing a point always has weight at least 1/8, so a point whose own voxel is absent (a cloud that
 * does not belong to this sparse tensor, or a different voxelisation) fails naming the point.
 *
 * <p>Runs on the device through {@link org.lacuna.runtime.ops.VoxelizationOps#devoxelize}: the points are uploaded
 * (they are this layer's input), the features never leave the device. The missing-voxel check reads the cloud and
 * the coordinate set the host holds.
 */
public final class Devoxelize {
    private final Voxelization voxelization;
    private final PointInterpolation interpolation;

    /** {@code voxelization}: the one that made the sparse tensor's stride-1 coordinates from the cloud. */
    public Devoxelize(Voxelization voxelization, PointInterpolation interpolation) {
        if (voxelization == null || interpolation == null) {
            throw InvalidInputException.argument("Devoxelize", "voxelization and interpolation are required");
        }
        this.voxelization = voxelization;
        this.interpolation = interpolation;
    }

    public Tensor forward(SparseTensor voxels, PointCloud points) {
        String call = "Devoxelize.forward";
        SparseHost.requireOpen(call, voxels);
        if (points == null) {
            throw InvalidInputException.argument(call, "the point cloud is null");
        }
        if (points.isEmpty()) {
            throw InvalidInputException.shape(call, "the point cloud has no points");
        }
        int[] stride = voxels.tensorStride();
        requireOwnVoxels(call, voxels.coordinateSet(), stride, points);
        int n = points.size();
        float[] xyz = new float[3 * n];
        for (int p = 0; p < n; p++) {
            xyz[3 * p] = points.x(p);
            xyz[3 * p + 1] = points.y(p);
            xyz[3 * p + 2] = points.z(p);
        }
        Session session = voxels.session();
        try (Tensor positions = session.fromFloats(xyz, DType.F32, n, 3);
             Tensor batches = session.fromInts(points.batchIndices(), n)) {
            Tensor out = session.empty(voxels.featureType(), n, voxels.channels());
            try {
                session.backend().ops().voxelization().devoxelize(voxels.features().array(call),
                        voxels.coordinates().array(call), Int3.of(stride[0], stride[1], stride[2]),
                        positions.array(call), batches.array(call), voxelization,
                        interpolation, out.array(call));
                return out;
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
        }
    }

    /** Every point's own voxel is in the set (for TRILINEAR it then has weight at least 1/8). */
    private void requireOwnVoxels(String call, CoordinateSet set, int[] stride, PointCloud points) {
        double[] g = new double[3];
        for (int p = 0; p < points.size(); p++) {
            g[0] = points.x(p) / voxelization.sizeX();
            g[1] = points.y(p) / voxelization.sizeY();
            g[2] = points.z(p) / voxelization.sizeZ();
            int batch = points.batchIndex(p);
            if (find(set, batch, cell(g[0], stride[0]), cell(g[1], stride[1]), cell(g[2], stride[2])) < 0) {
                throw missing(call, p, points, batch, g, stride);
            }
        }
    }

    /** The voxel coordinate (a multiple of the stride) of the cell containing g. */
    private static long cell(double g, int stride) {
        return Math.floorDiv((long) Math.floor(g), stride) * stride;
    }

    private static int find(CoordinateSet set, int batch, long x, long y, long z) {
        if (!CoordinateKey.fitsCoordinate(x) || !CoordinateKey.fitsCoordinate(y) || !CoordinateKey.fitsCoordinate(z)
                || batch < 0 || batch > CoordinateKey.MAX_BATCH) {
            return -1;
        }
        return set.find(CoordinateKey.pack(batch, (int) x, (int) y, (int) z));
    }

    private static InvalidInputException missing(String call, int p, PointCloud points, int batch, double[] g,
                                                 int[] stride) {
        return InvalidInputException.argument(call, "point " + p + " (" + points.x(p) + ", " + points.y(p) + ", "
                + points.z(p) + ", batch " + batch + ") lies in voxel (" + cell(g[0], stride[0]) + ", "
                + cell(g[1], stride[1]) + ", " + cell(g[2], stride[2]) + ") at tensor stride "
                + java.util.Arrays.toString(stride) + ", which the sparse tensor does not hold");
    }

    public PointInterpolation interpolation() {
        return interpolation;
    }

    @Override
    public String toString() {
        return "Devoxelize[" + interpolation + ", " + voxelization + "]";
    }
}

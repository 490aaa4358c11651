package org.lacuna.api.layers;

import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.sparseconv.CoordinateSet;

/**
 * Voxel features back to the points they came from: an [P, C] tensor (the voxels' feature type), one row per point
 * of the cloud, in the cloud's order.
 *
 * <p>Points are placed on the grid as {@link Voxelization} does: a point p is at g = p / size in stride-1 voxel
 * units, and a voxel at coordinate v (a multiple of the tensor stride s) covers [v, v + s) with its centre at
 * v + s/2.
 * <ul>
 *   <li>{@link Mode#NEAREST}: the voxel that contains the point (floor(g) floored to the stride).</li>
 *   <li>{@link Mode#TRILINEAR}: the 8 voxel centres around the point, weighted by the trilinear weights
 *       ∏ (1 − |u − k|) with u = (g − s/2) / s; neighbours absent from the sparse tensor are skipped and the
 *       remaining weights renormalised to sum to one, so a point between occupied and empty space takes the
 *       occupied voxels' features rather than being pulled toward zero.</li>
 * </ul>
 * The voxel containing a point always has weight at least 1/8, so a point whose own voxel is absent (a cloud that
 * does not belong to this sparse tensor, or a different voxelisation) fails naming the point.
 *
 * <p>Computes on the host from downloaded features until a device gather kernel exists.
 */
public final class Devoxelize {
    public enum Mode {
        NEAREST, TRILINEAR
    }

    private final Voxelization voxelization;
    private final Mode mode;

    /** {@code voxelization}: the one that made the sparse tensor's stride-1 coordinates from the cloud. */
    public Devoxelize(Voxelization voxelization, Mode mode) {
        if (voxelization == null || mode == null) {
            throw InvalidInputException.argument("Devoxelize", "voxelization and mode are required");
        }
        this.voxelization = voxelization;
        this.mode = mode;
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
        CoordinateSet set = voxels.coordinateSet();
        int[] stride = voxels.tensorStride();
        int c = (int) voxels.channels();
        float[] features = voxels.features().toFloatArray();
        double[] sizes = {voxelization.sizeX(), voxelization.sizeY(), voxelization.sizeZ()};
        float[] out = new float[points.size() * c];
        double[] g = new double[3];
        for (int p = 0; p < points.size(); p++) {
            g[0] = points.x(p) / sizes[0];
            g[1] = points.y(p) / sizes[1];
            g[2] = points.z(p) / sizes[2];
            int batch = points.batchIndex(p);
            if (mode == Mode.NEAREST) {
                int row = find(set, batch, cell(g[0], stride[0]), cell(g[1], stride[1]), cell(g[2], stride[2]));
                if (row < 0) {
                    throw missing(call, p, points, batch, g, stride);
                }
                System.arraycopy(features, row * c, out, p * c, c);
            } else {
                trilinear(call, set, features, c, stride, batch, g, out, p, points);
            }
        }
        return voxels.session().fromFloats(out, voxels.featureType(), points.size(), c);
    }

    private static void trilinear(String call, CoordinateSet set, float[] features, int c, int[] stride, int batch,
                                  double[] g, float[] out, int p, PointCloud points) {
        long[] base = new long[3];
        double[] frac = new double[3];
        for (int a = 0; a < 3; a++) {
            double u = (g[a] - stride[a] / 2.0) / stride[a];
            double k = Math.floor(u);
            base[a] = (long) k;
            frac[a] = u - k;
        }
        double total = 0;
        double[] acc = new double[c];
        for (int corner = 0; corner < 8; corner++) {
            double w = 1;
            long[] v = new long[3];
            for (int a = 0; a < 3; a++) {
                int d = corner >> (2 - a) & 1;
                w *= d == 0 ? 1 - frac[a] : frac[a];
                v[a] = (base[a] + d) * stride[a];
            }
            if (w <= 0) {
                continue;
            }
            int row = find(set, batch, v[0], v[1], v[2]);
            if (row < 0) {
                continue;
            }
            total += w;
            for (int ch = 0; ch < c; ch++) {
                acc[ch] += w * features[row * c + ch];
            }
        }
        if (!(total > 0)) {
            throw missing(call, p, points, batch, g, stride);
        }
        for (int ch = 0; ch < c; ch++) {
            out[p * c + ch] = (float) (acc[ch] / total);
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

    public Mode mode() {
        return mode;
    }

    @Override
    public String toString() {
        return "Devoxelize[" + mode + ", " + voxelization + "]";
    }
}

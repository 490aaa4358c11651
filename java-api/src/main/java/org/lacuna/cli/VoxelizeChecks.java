package org.lacuna.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.lacuna.api.Session;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;

/**
 * Selftest family: the serving backend's voxeliser against a direct recomputation written here (a hash map from
 * each point's cell to double sums), independent of both backends' code: the occupied voxels and the voxel of every
 * point must match exactly, the mean positions and channels to float rounding.
 */
final class VoxelizeChecks {
    static final String FAMILY = "voxelisation";

    private VoxelizeChecks() {
    }

    static List<CheckResult> run(Session serving, PointCloud cloud, String what) {
        List<CheckResult> results = new ArrayList<>();
        for (double size : new double[] {0.05, 0.2}) {
            Voxelization voxelization = Voxelization.cubic(size, VoxelReduction.MEAN);
            var voxelizer = serving.backend().ops().voxelization();
            voxelizer.voxelize(cloud, voxelization); // warm-up
            long start = System.nanoTime();
            VoxelizedCloud got = voxelizer.voxelize(cloud, voxelization);
            double millis = (System.nanoTime() - start) / 1e6;
            results.add(compare(got, cloud, voxelization, "mean voxels at " + size + " m, " + what, millis));
        }
        return results;
    }

    private static CheckResult compare(VoxelizedCloud got, PointCloud cloud, Voxelization voxelization, String name,
                                       double millis) {
        Map<Long, double[]> sums = new HashMap<>();
        int channels = cloud.channelCount();
        long[] pointKeys = new long[cloud.size()];
        for (int p = 0; p < cloud.size(); p++) {
            long key = CoordinateKey.pack(cloud.batchIndex(p),
                    (int) Voxelization.cell(cloud.x(p), voxelization.sizeX()),
                    (int) Voxelization.cell(cloud.y(p), voxelization.sizeY()),
                    (int) Voxelization.cell(cloud.z(p), voxelization.sizeZ()));
            pointKeys[p] = key;
            double[] s = sums.computeIfAbsent(key, k -> new double[4 + channels]);
            s[0] += cloud.x(p);
            s[1] += cloud.y(p);
            s[2] += cloud.z(p);
            for (int c = 0; c < channels; c++) {
                s[3 + c] += cloud.channelValue(c, p);
            }
            s[3 + channels]++;
        }
        long[] keys = got.keys();
        if (keys.length != sums.size()) {
            return new CheckResult(FAMILY, name, Double.POSITIVE_INFINITY, 0, millis, keys.length + " voxels, the "
                    + "recomputation finds " + sums.size());
        }
        int[] pointToVoxel = got.pointToVoxel();
        for (int p = 0; p < pointKeys.length; p++) {
            if (keys[pointToVoxel[p]] != pointKeys[p]) {
                return new CheckResult(FAMILY, name, Double.POSITIVE_INFINITY, 0, millis, "point " + p + " lands in "
                        + CoordinateKey.describe(keys[pointToVoxel[p]]) + ", not "
                        + CoordinateKey.describe(pointKeys[p]));
            }
        }
        float[] positions = got.positions();
        float[] gotChannels = got.channels();
        float[] gotValues = new float[keys.length * (3 + channels)];
        float[] wantValues = new float[gotValues.length];
        for (int v = 0; v < keys.length; v++) {
            double[] s = sums.get(keys[v]);
            if (s == null) {
                return new CheckResult(FAMILY, name, Double.POSITIVE_INFINITY, 0, millis, "voxel "
                        + CoordinateKey.describe(keys[v]) + " holds no point");
            }
            int at = v * (3 + channels);
            for (int a = 0; a < 3; a++) {
                gotValues[at + a] = positions[3 * v + a];
                wantValues[at + a] = (float) (s[a] / s[3 + channels]);
            }
            for (int c = 0; c < channels; c++) {
                gotValues[at + 3 + c] = gotChannels[v * channels + c];
                wantValues[at + 3 + c] = (float) (s[3 + c] / s[3 + channels]);
            }
        }
        return new CheckResult(FAMILY, name + " (" + keys.length + " voxels)",
                CheckResult.normalisedMaxError(gotValues, wantValues),
                CheckResult.tolerance(org.lacuna.runtime.data.DType.F32, 2), millis, "voxels and point map exact");
    }

    /** A synthetic scan when no real one is given: a ground plane, a wall and scattered points, with a channel. */
    static PointCloud syntheticScan(SplittableRandom random, int n) {
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        float[] intensity = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextDouble() * 40 - 20);
            y[i] = (float) (random.nextDouble() * 40 - 20);
            z[i] = i % 3 == 0 ? (float) (random.nextDouble() * 3) : (float) (random.nextDouble() * 0.1 - 1.7);
            intensity[i] = (float) random.nextDouble();
        }
        return PointCloud.of(x, y, z, List.of("intensity"), new float[][] {intensity});
    }
}

package org.lacuna.runtime.pointcloud;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.lacuna.runtime.cpu.CpuVoxelizer;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.internal.cuda.RadixSortRecords;
import org.lacuna.runtime.sparseconv.KittiSweep;
import org.lacuna.runtime.testing.EmulationFixture;

/**
 * Voxeliser cases for the emulated {@code voxelize.cu} (its test reads the {@code voxelize*} directories): the cloud
 * as {@code CudaVoxelizationOps} uploads it (x, y, z, batch per point, channels channel-major) and what {@link CpuVoxelizer}
 * returned for it (keys, positions, channels, counts, point-to-voxel, or the first invalid point), which the kernels
 * must reproduce bit for bit. Both reductions; random clouds with several batches and channels, one with an invalid
 * point, and the real KITTI sweep where {@code ../shared/data} has it. Each valid case also records the voxeliser's
 * two radix sorts as {@code CudaVoxelizationOps} launches them ({@link RadixSortRecords}).
 */
public final class VoxelizeFixtures {
    private VoxelizeFixtures() {
    }

    public static void write(Path root) {
        Random random = new Random(31);
        List<PointCloud> samples = new ArrayList<>();
        for (int b = 0; b < 3; b++) {
            samples.add(randomCloud(random, 400 + 37 * b, 2));
        }
        PointCloud batched = PointCloud.batchOf(samples);
        for (VoxelReduction reduction : VoxelReduction.values()) {
            String tag = reduction.name().toLowerCase(Locale.ROOT);
            write(root.resolve("voxelize_random_" + tag), batched, new Voxelization(0.1, 0.15, 0.05, reduction));
            write(root.resolve("voxelize_coarse_" + tag), batched, Voxelization.cubic(1.5, reduction));
        }
        PointCloud invalid = randomCloud(random, 300, 1);
        float[] z = invalid.zs();
        z[211] = Float.NaN;
        z[97] = 1e12f;
        write(root.resolve("voxelize_invalid"), PointCloud.of(invalid.xs(), invalid.ys(), z, invalid.channelNames(),
                new float[][] {invalid.channel(0)}), Voxelization.cubic(0.1, VoxelReduction.MEAN));
        if (Files.isRegularFile(KittiSweep.SWEEP)) {
            PointCloud sweep = KittiSweep.readSweep();
            write(root.resolve("voxelize_kitti_mean"), sweep, Voxelization.cubic(0.2, VoxelReduction.MEAN));
        }
    }

    private static PointCloud randomCloud(Random random, int n, int channels) {
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        float[][] values = new float[channels][n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextGaussian() * 3);
            y[i] = (float) (random.nextGaussian() * 3);
            z[i] = (float) (random.nextGaussian() * 0.4);
            for (int k = 0; k < channels; k++) {
                // Magnitudes 2^-30 .. 2^30: a double sum of these rounds, so summing out of input order shows.
                values[k][i] = (float) Math.scalb(random.nextDouble() * 2 - 1, random.nextInt(61) - 30);
            }
        }
        List<String> names = new ArrayList<>();
        for (int k = 0; k < channels; k++) {
            names.add("c" + k);
        }
        return PointCloud.of(x, y, z, names, values);
    }

    private static void write(Path dir, PointCloud cloud, Voxelization voxelization) {
        int n = cloud.size();
        int c = cloud.channelCount();
        float[] channels = new float[c * n];
        for (int k = 0; k < c; k++) {
            System.arraycopy(cloud.channel(k), 0, channels, k * n, n);
        }
        EmulationFixture fixture = new EmulationFixture(dir)
                .meta("c", c)
                .meta("size_x", voxelization.sizeX())
                .meta("size_y", voxelization.sizeY())
                .meta("size_z", voxelization.sizeZ())
                .meta("reduction", voxelization.reduction().name())
                .array("xs", cloud.xs())
                .array("ys", cloud.ys())
                .array("zs", cloud.zs())
                .array("batches", cloud.batchIndices())
                .array("channels", channels);
        try {
            VoxelizedCloud voxels = new CpuVoxelizer().voxelize(cloud, voxelization);
            fixture.array("keys", voxels.keys())
                    .array("positions", voxels.positions())
                    .array("out_channels", voxels.channels())
                    .array("counts", voxels.pointCounts())
                    .array("point_voxel", voxels.pointToVoxel());
            recordSorts(fixture, voxels, new Random(dir.getFileName().toString().hashCode()));
        } catch (InvalidInputException e) {
            // The reference names the first invalid point; the device must report the same index.
            int first = firstInvalid(cloud, voxelization);
            if (!e.getMessage().contains("point " + first + " ")) {
                throw new AssertionError("the reference's message does not name point " + first + ": " + e.getMessage());
            }
            fixture.meta("invalid", first);
        }
        fixture.finish();
    }

    /**
     * The voxeliser's two device sorts as recorded launches, with the order the reference defines: the distinct keys
     * (in a shuffled order, as the compaction may return them) into CoordinateKey order, carrying their position; the
     * points by voxel, stably, so each voxel's points stay in input order.
     */
    private static void recordSorts(EmulationFixture fixture, VoxelizedCloud voxels, Random random) {
        long[] keys = voxels.keys();
        int m = keys.length;
        int[] shuffle = new int[m];
        for (int i = 0; i < m; i++) {
            int j = random.nextInt(i + 1);
            shuffle[i] = shuffle[j];
            shuffle[j] = i;
        }
        long[] shuffled = new long[m];
        int[] position = new int[m];
        for (int i = 0; i < m; i++) {
            shuffled[i] = keys[shuffle[i]];
            position[shuffle[i]] = i;
        }
        RadixSortRecords.voxelKeys(fixture, "sort_voxels.", shuffled, keys, position);

        int[] pointVoxel = voxels.pointToVoxel();
        int[] start = new int[m + 1];
        for (int v : pointVoxel) {
            start[v + 1]++;
        }
        for (int v = 0; v < m; v++) {
            start[v + 1] += start[v];
        }
        long[] voxelKeys = new long[pointVoxel.length];
        long[] sortedVoxels = new long[pointVoxel.length];
        int[] points = new int[pointVoxel.length];
        for (int i = 0; i < pointVoxel.length; i++) {
            voxelKeys[i] = pointVoxel[i];
            int at = start[pointVoxel[i]]++;
            sortedVoxels[at] = pointVoxel[i];
            points[at] = i;
        }
        RadixSortRecords.pointsByVoxel(fixture, "sort_points.", voxelKeys, m, sortedVoxels, points);
    }

    private static int firstInvalid(PointCloud cloud, Voxelization voxelization) {
        for (int i = 0; i < cloud.size(); i++) {
            if (CpuVoxelizer.keyOf(cloud.batchIndex(i), cloud.x(i), cloud.y(i), cloud.z(i), voxelization.sizeX(),
                    voxelization.sizeY(), voxelization.sizeZ()) == CoordinateKey.EMPTY) {
                return i;
            }
        }
        throw new AssertionError("the reference rejected a cloud without an invalid point");
    }
}

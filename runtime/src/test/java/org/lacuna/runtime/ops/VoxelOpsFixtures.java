package org.lacuna.runtime.ops;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.sparseconv.Int3;
import org.lacuna.runtime.sparseconv.KittiSweep;
import org.lacuna.runtime.testing.EmulationFixture;
import org.lacuna.runtime.testing.TestData;

/**
 * Cases for the emulated pooling, bird's-eye-view and devoxelisation kernels of {@code voxelize.cu} (its test reads
 * the {@code voxelops*} directories): a sparse tensor (coordinates, F32 features, stride), a BEV grid, a point cloud
 * with its voxel size, and what the serving CPU backend (fp32, the same order of every operation as the kernels, so
 * the kernels must match it bit for bit) and the {@code cpu-reference} backend (double) returned for each op and
 * mode. A random batched case with an empty sample, a strided one, and the real KITTI sweep where
 * {@code ../shared/data} has it.
 */
public final class VoxelOpsFixtures {
    private VoxelOpsFixtures() {
    }

    public static void write(Path root) {
        SplittableRandom random = TestData.random("voxelOpsFixtures");
        try (Backend serving = new CpuBackendProvider().open(0);
             Backend reference = new ReferenceBackendProvider().open(0)) {
            PointCloud cloud = PointCloud.batchOf(List.of(cloud(random, 500), cloud(random, 1), cloud(random, 300)));
            Voxelization voxelization = new Voxelization(0.2, 0.25, 0.3, VoxelReduction.MEAN);
            SparseCases.Coordinates voxels = SparseCases.of(serving.ops().voxelization().voxelize(cloud,
                    voxelization));
            // Four samples, the last one empty: pooling and BEV must give it zeros.
            SparseCases.Coordinates padded = new SparseCases.Coordinates(voxels.values(), voxels.batches() + 1);
            write(root.resolve("voxelops_random"), serving, reference, random, padded, 1, cloud, voxelization, 3);
            SparseCases.Coordinates strided = SparseCases.random(random, 700, 2, Set.of(), new int[] {-30, -30, -6},
                    new int[] {60, 60, 12}, new int[] {2, 2, 2});
            PointCloud inside = pointsOn(random, strided, 2, voxelization);
            write(root.resolve("voxelops_strided"), serving, reference, random, strided, 2, inside, voxelization, 2);
            if (Files.isRegularFile(KittiSweep.SWEEP)) {
                PointCloud sweep = KittiSweep.readSweep();
                // At 0.8 m the dense maps stay small (about 200 x 130 x 20 cells) while every point is devoxelised.
                Voxelization kitti = Voxelization.cubic(0.8, VoxelReduction.MEAN);
                SparseCases.Coordinates sweepVoxels = SparseCases.of(serving.ops().voxelization().voxelize(sweep,
                        kitti));
                write(root.resolve("voxelops_kitti"), serving, reference, random, sweepVoxels, 1, sweep, kitti, 4);
            }
        }
    }

    private static void write(Path dir, Backend serving, Backend reference, SplittableRandom random,
                              SparseCases.Coordinates coords, int strideValue, PointCloud points,
                              Voxelization voxelization, int c) {
        float[] features = TestData.uniform(random, coords.rows() * c, 4f, DType.F32);
        Int3 stride = Int3.cubic(strideValue);
        BevGrid grid = enclosingGrid(coords, strideValue);
        float[] xyz = new float[3 * points.size()];
        for (int p = 0; p < points.size(); p++) {
            xyz[3 * p] = points.x(p);
            xyz[3 * p + 1] = points.y(p);
            xyz[3 * p + 2] = points.z(p);
        }
        EmulationFixture fixture = new EmulationFixture(dir)
                .meta("c", c)
                .meta("batches", coords.batches())
                .meta("stride", strideValue)
                .meta("origin_x", grid.origin().x()).meta("origin_y", grid.origin().y())
                .meta("origin_z", grid.origin().z())
                .meta("cells_x", grid.cells().x()).meta("cells_y", grid.cells().y()).meta("cells_z", grid.cells().z())
                .meta("size_x", voxelization.sizeX()).meta("size_y", voxelization.sizeY())
                .meta("size_z", voxelization.sizeZ())
                .array("coords", coords.values())
                .array("features", features)
                .array("points", xyz)
                .array("point_batches", points.batchIndices());
        for (Backend backend : List.of(serving, reference)) {
            String prefix = backend == serving ? "" : "ref_";
            for (BatchPooling pooling : BatchPooling.values()) {
                fixture.array(prefix + "pool_" + lower(pooling), VoxelOpRuns.batchPool(backend, coords, features,
                        DType.F32, c, pooling));
            }
            for (BevReduction reduction : BevReduction.values()) {
                fixture.array(prefix + "bev_" + lower(reduction), VoxelOpRuns.bevProject(backend, coords, features,
                        DType.F32, c, stride, grid, reduction));
            }
            for (PointInterpolation interpolation : PointInterpolation.values()) {
                fixture.array(prefix + "devox_" + lower(interpolation), VoxelOpRuns.devoxelize(backend, coords,
                        features, DType.F32, c, stride, points, voxelization, interpolation));
            }
        }
        fixture.finish();
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    /** The smallest grid holding every coordinate, one cell beyond on x so that some columns stay empty. */
    private static BevGrid enclosingGrid(SparseCases.Coordinates coords, int stride) {
        int[] lo = {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE};
        int[] hi = {Integer.MIN_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE};
        for (int r = 0; r < coords.rows(); r++) {
            for (int a = 0; a < 3; a++) {
                lo[a] = Math.min(lo[a], coords.values()[4 * r + 1 + a]);
                hi[a] = Math.max(hi[a], coords.values()[4 * r + 1 + a]);
            }
        }
        return new BevGrid(Int3.of(lo[0], lo[1], lo[2]), Int3.of((hi[0] - lo[0]) / stride + 2,
                (hi[1] - lo[1]) / stride + 1, (hi[2] - lo[2]) / stride + 1));
    }

    private static PointCloud cloud(SplittableRandom random, int n) {
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextGaussian() * 2);
            y[i] = (float) (random.nextGaussian() * 2);
            z[i] = (float) (random.nextGaussian() * 0.5);
        }
        return PointCloud.of(x, y, z);
    }

    /** Points inside the voxels of a strided tensor (three per voxel, anywhere in its extent), sample by sample. */
    private static PointCloud pointsOn(SplittableRandom random, SparseCases.Coordinates coords, int stride,
                                       Voxelization voxelization) {
        double[] size = {voxelization.sizeX(), voxelization.sizeY(), voxelization.sizeZ()};
        List<PointCloud> samples = new ArrayList<>();
        for (int b = 0; b < coords.batches(); b++) {
            List<float[]> points = new ArrayList<>();
            for (int r = 0; r < coords.rows(); r++) {
                if (coords.values()[4 * r] != b) {
                    continue;
                }
                for (int k = 0; k < 3; k++) {
                    float[] p = new float[3];
                    for (int a = 0; a < 3; a++) {
                        // Well inside [v, v + stride) voxels, away from the faces where rounding could tip it over.
                        double g = coords.values()[4 * r + 1 + a] + (0.05 + 0.9 * random.nextDouble()) * stride;
                        p[a] = (float) (g * size[a]);
                    }
                    points.add(p);
                }
            }
            float[] x = new float[points.size()];
            float[] y = new float[points.size()];
            float[] z = new float[points.size()];
            for (int i = 0; i < points.size(); i++) {
                x[i] = points.get(i)[0];
                y[i] = points.get(i)[1];
                z[i] = points.get(i)[2];
            }
            samples.add(PointCloud.of(x, y, z));
        }
        return PointCloud.batchOf(samples);
    }
}

package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.ops.BatchPooling;
import org.lacuna.runtime.ops.BevGrid;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.ops.SparseCases;
import org.lacuna.runtime.ops.VoxelOpRuns;
import org.lacuna.runtime.ops.VoxelizationConformance;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.sparseconv.Int3;
import org.lacuna.runtime.testing.TestData;

/** The serving CPU backend against the voxelisation family's conformance suite. */
class CpuVoxelizationTest extends VoxelizationConformance {
    @Override
    protected Backend openBackend() {
        return new CpuBackendProvider().open(0);
    }

    @Test
    void theOpsOnDeviceArraysGiveTheSameBitsOnOneOrThreeThreads() {
        SplittableRandom random = TestData.random("voxelOpsThreads");
        // Outputs of several chunks each: 3 x 3 x 24 x 64 BEV cells, 9,000 points.
        SparseCases.Coordinates coords = SparseCases.random(random, 3000, 3, Set.of(), new int[] {0, 0, 0},
                new int[] {64, 24, 3}, new int[] {1, 1, 1});
        int c = 3;
        float[] features = TestData.uniform(random, coords.rows() * c, 5f, DType.F32);
        BevGrid grid = new BevGrid(Int3.of(0, 0, 0), Int3.of(64, 24, 3));
        List<PointCloud> samples = List.of(randomCloud(random, 3000, 3f, 0), randomCloud(random, 3000, 3f, 0),
                randomCloud(random, 3000, 3f, 0));
        PointCloud cloud = PointCloud.batchOf(samples);
        Voxelization voxelization = Voxelization.cubic(0.3, VoxelReduction.MEAN);
        SparseCases.Coordinates voxels = SparseCases.of(new CpuVoxelizer().voxelize(cloud, voxelization));
        float[] voxelFeatures = TestData.uniform(random, voxels.rows() * c, 5f, DType.F32);
        try (Backend one = new CpuBackendProvider().open(0, new CpuOptions(1, true, false));
             Backend three = new CpuBackendProvider().open(0, new CpuOptions(3, true, false))) {
            for (BevReduction reduction : BevReduction.values()) {
                assertArrayEquals(VoxelOpRuns.bevProject(one, coords, features, DType.F32, c, Int3.cubic(1), grid, reduction),
                        VoxelOpRuns.bevProject(three, coords, features, DType.F32, c, Int3.cubic(1), grid, reduction));
            }
            for (BatchPooling pooling : BatchPooling.values()) {
                assertArrayEquals(VoxelOpRuns.batchPool(one, coords, features, DType.F32, c, pooling),
                        VoxelOpRuns.batchPool(three, coords, features, DType.F32, c, pooling));
            }
            for (PointInterpolation interpolation : PointInterpolation.values()) {
                assertArrayEquals(VoxelOpRuns.devoxelize(one, voxels, voxelFeatures, DType.F32, c, Int3.cubic(1), cloud,
                        voxelization, interpolation), VoxelOpRuns.devoxelize(three, voxels, voxelFeatures, DType.F32, c,
                        Int3.cubic(1), cloud, voxelization, interpolation));
            }
        }
    }
}

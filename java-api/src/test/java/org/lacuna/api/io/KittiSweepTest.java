package org.lacuna.api.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;

/**
 * The real KITTI sweep from {@code ../shared/data} (see its README): read, checked against the published figures,
 * voxelised. Skipped where the shared data folder is absent.
 */
class KittiSweepTest {
    /** The repository root is the parent of this module's folder; the data lies beside the repository. */
    static final Path SWEEP = Path.of("").toAbsolutePath().getParent().getParent()
            .resolve("shared/data/kitti-velodyne-000001.bin");

    private static PointCloud sweep;

    /** Per test rather than per class, so that each test is reported as skipped, with the reason. */
    @BeforeEach
    void requireTheSweep() {
        Assumptions.assumeTrue(Files.isRegularFile(SWEEP), "the real KITTI sweep is not at " + SWEEP
                + " (../shared/data beside the repository); skipping the real-data checks");
        if (sweep == null) {
            sweep = PointClouds.read(SWEEP);
        }
    }

    @Test
    void theSweepMatchesItsDataSheet() {
        assertEquals(120_610, sweep.size());
        PointCloud.Bounds b = sweep.bounds();
        assertEquals(-79.7, b.minX(), 0.05);
        assertEquals(76.7, b.maxX(), 0.05);
        assertEquals(-24.8, b.minY(), 0.05);
        assertEquals(77.2, b.maxY(), 0.05);
        assertEquals(-13.1, b.minZ(), 0.05);
        assertEquals(2.9, b.maxZ(), 0.05);
        assertEquals(sweep.size(), sweep.finitePoints().size(), "every point is finite");
    }

    @Test
    void voxelCountsMatchTheDataSheet() {
        double[] sizes = {0.05, 0.10, 0.20};
        // The data README's orientation figures, and the exact counts numpy gives for floor(float64(p) / size).
        int[] about = {86_000, 55_000, 31_000};
        int[] exact = {86_068, 55_392, 31_226};
        for (int i = 0; i < sizes.length; i++) {
            VoxelizedCloud voxels;
            try (Session session = Lacuna.open("cpu", 0)) {
                voxels = session.backend().ops().voxelization().voxelize(sweep,
                        Voxelization.cubic(sizes[i], VoxelReduction.MEAN));
            }
            System.out.printf("KITTI sweep at %.2f m: %,d voxels%n", sizes[i], voxels.voxelCount());
            assertEquals(about[i], voxels.voxelCount(), about[i] * 0.03, "within 3% of the README at " + sizes[i]);
            assertEquals(exact[i], voxels.voxelCount(), "at " + sizes[i]);
            int total = 0;
            for (int count : voxels.pointCounts()) {
                total += count;
            }
            assertEquals(sweep.size(), total);
        }
    }

    @Test
    void theSweepBecomesASparseTensor() {
        try (Session session = Lacuna.open("cpu", 0);
             SparseTensor tensor = SparseTensor.voxelize(session, sweep,
                     Voxelization.cubic(0.1, VoxelReduction.MEAN), VoxelFeatures.POSITIONS_AND_CHANNELS, DType.F32)) {
            assertEquals(55_392, tensor.size());
            assertEquals(4, tensor.channels());
            assertArrayEquals(new long[] {55_392, 4}, tensor.coordinates().shape().dims());
            float[] features = tensor.features().toFloatArray();
            int[] coordinates = tensor.coordinates().toIntArray();
            for (int v = 0; v < tensor.size(); v += 997) {
                // The mean position lies inside its voxel, and the reflectance stays in KITTI's [0, 1].
                for (int axis = 0; axis < 3; axis++) {
                    double cell = features[4 * v + axis] / 0.1;
                    assertTrue(cell >= coordinates[4 * v + 1 + axis] - 1e-3 && cell < coordinates[4 * v + 1 + axis] + 1 + 1e-3,
                            "voxel " + v + " axis " + axis);
                }
                assertTrue(features[4 * v + 3] >= 0f && features[4 * v + 3] <= 1f);
            }
        }
    }
}

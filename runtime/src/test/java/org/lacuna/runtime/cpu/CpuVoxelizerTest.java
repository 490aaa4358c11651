package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.testing.TestData;

class CpuVoxelizerTest {
    /** Worker threads for the parallel passes, as a serving backend has them (daemon threads). */
    static final CpuThreads THREADS = new CpuThreads(2);
    private static PointCloud cloud(float[][] points, float[] intensity) {
        float[] x = new float[points.length];
        float[] y = new float[points.length];
        float[] z = new float[points.length];
        for (int i = 0; i < points.length; i++) {
            x[i] = points[i][0];
            y[i] = points[i][1];
            z[i] = points[i][2];
        }
        return PointCloud.of(x, y, z, List.of("intensity"), new float[][] {intensity});
    }

    @Test
    void pointsAreGroupedSortedAndReduced() {
        PointCloud cloud = cloud(new float[][] {
            {0.25f, 0.05f, 0.15f}, // voxel (0, 2, 0, 1) at 0.1
            {-0.01f, 0.0f, 0.0f},  // voxel (0, -1, 0, 0): floor, not truncation
            {0.22f, 0.01f, 0.11f}, // voxel (0, 2, 0, 1) again
        }, new float[] {1f, 5f, 4f});
        VoxelizedCloud mean = new CpuVoxelizer().voxelize(cloud, Voxelization.cubic(0.1, VoxelReduction.MEAN));
        assertArrayEquals(new int[] {0, -1, 0, 0, 0, 2, 0, 1}, mean.coordinates());
        assertArrayEquals(new int[] {1, 2}, mean.pointCounts());
        assertArrayEquals(new int[] {1, 0, 1}, mean.pointToVoxel());
        assertArrayEquals(new float[] {-0.01f, 0f, 0f, (float) ((0.25f + (double) 0.22f) / 2),
            (float) ((0.05f + (double) 0.01f) / 2), (float) ((0.15f + (double) 0.11f) / 2)}, mean.positions());
        assertArrayEquals(new float[] {5f, 2.5f}, mean.channels());

        VoxelizedCloud first = new CpuVoxelizer().voxelize(cloud, Voxelization.cubic(0.1, VoxelReduction.FIRST));
        assertArrayEquals(new float[] {-0.01f, 0f, 0f, 0.25f, 0.05f, 0.15f}, first.positions());
        assertArrayEquals(new float[] {5f, 1f}, first.channels());
        assertArrayEquals(new int[] {1, 1, 1}, first.tensorStride());
    }

    @Test
    void batchesKeepEqualPositionsApartAndSortFirst() {
        PointCloud a = PointCloud.of(new float[] {1, 1}, new float[] {0, 0}, new float[] {0, 0});
        PointCloud b = PointCloud.of(new float[] {-5}, new float[] {0}, new float[] {0});
        VoxelizedCloud voxels = new CpuVoxelizer().voxelize(PointCloud.batchOf(List.of(a, b)),
                Voxelization.cubic(1, VoxelReduction.MEAN));
        assertArrayEquals(new int[] {0, 1, 0, 0, 1, -5, 0, 0}, voxels.coordinates());
        assertArrayEquals(new int[] {2, 1}, voxels.pointCounts());
        VoxelizedCloud seven = new CpuVoxelizer().voxelize(b.withBatch(7), Voxelization.cubic(1, VoxelReduction.MEAN));
        assertEquals(7, CoordinateKey.batch(seven.key(0)));
    }

    @Test
    void anEmptyCloudIsAClearError() {
        PointCloud empty = PointCloud.of(new float[0], new float[0], new float[0]);
        var e = assertThrows(InvalidInputException.class,
                () -> new CpuVoxelizer().voxelize(empty, Voxelization.cubic(0.1, VoxelReduction.MEAN)));
        assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }

    @Test
    void nonFiniteCoordinatesNameTheFirstBadPointWhateverTheThreads() {
        int n = 100_000;
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        y[n - 3] = Float.NaN;
        z[40_000] = Float.POSITIVE_INFINITY;
        PointCloud cloud = PointCloud.of(x, y, z);
        for (CpuVoxelizer voxelizer : List.of(new CpuVoxelizer(THREADS, 0), CpuVoxelizer.sequential())) {
            var e = assertThrows(InvalidInputException.class,
                    () -> voxelizer.voxelize(cloud, Voxelization.cubic(0.1, VoxelReduction.MEAN)));
            assertTrue(e.getMessage().contains("point 40000 has z = Infinity"), e.getMessage());
        }
        PointCloud finite = cloud.finitePoints();
        assertEquals(n - 2, finite.size());
        assertEquals(1, new CpuVoxelizer().voxelize(finite, Voxelization.cubic(0.1, VoxelReduction.MEAN)).voxelCount());
        var nan = assertThrows(InvalidInputException.class, () -> new CpuVoxelizer().voxelize(
                PointCloud.of(new float[] {Float.NaN}, new float[1], new float[1]),
                Voxelization.cubic(1, VoxelReduction.FIRST)));
        assertTrue(nan.getMessage().contains("point 0 has x = NaN"), nan.getMessage());
    }

    @Test
    void coordinatesOutsideTheKeyRangeSayWhatRangeFits() {
        PointCloud far = PointCloud.of(new float[] {0, 0}, new float[] {0, 1700f}, new float[] {0, 0});
        var e = assertThrows(InvalidInputException.class,
                () -> new CpuVoxelizer().voxelize(far, Voxelization.cubic(0.05, VoxelReduction.MEAN)));
        assertTrue(e.getMessage().contains("point 1 has y = 1700.0, in voxel 34000"), e.getMessage());
        assertTrue(e.getMessage().contains("[-1638.4, 1638.4"), e.getMessage());
        // The same cloud fits at a coarser voxel.
        assertEquals(2, new CpuVoxelizer().voxelize(far, Voxelization.cubic(0.1, VoxelReduction.MEAN)).voxelCount());
    }

    @Test
    void badVoxelSizesAreRejected() {
        assertThrows(InvalidInputException.class, () -> Voxelization.cubic(0, VoxelReduction.MEAN));
        assertThrows(InvalidInputException.class, () -> new Voxelization(0.1, Double.NaN, 0.1, VoxelReduction.MEAN));
        assertThrows(InvalidInputException.class, () -> Voxelization.cubic(-1, VoxelReduction.MEAN));
    }

    @Test
    void parallelAndSequentialAgreeExactlyOnALargeCloud() {
        SplittableRandom random = TestData.random("parallelAndSequentialAgreeExactlyOnALargeCloud");
        int n = 200_000;
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        float[] intensity = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextDouble(-20, 20);
            y[i] = (float) random.nextDouble(-20, 20);
            z[i] = (float) random.nextDouble(-2, 2);
            intensity[i] = (float) random.nextDouble();
        }
        PointCloud cloud = PointCloud.of(x, y, z, List.of("intensity"), new float[][] {intensity});
        for (VoxelReduction reduction : VoxelReduction.values()) {
            Voxelization v = Voxelization.cubic(0.2, reduction);
            VoxelizedCloud parallel = new CpuVoxelizer(THREADS, 0).voxelize(cloud, v);
            VoxelizedCloud sequential = CpuVoxelizer.sequential().voxelize(cloud, v);
            assertArrayEquals(sequential.keys(), parallel.keys());
            assertArrayEquals(sequential.positions(), parallel.positions());
            assertArrayEquals(sequential.channels(), parallel.channels());
            assertArrayEquals(sequential.pointCounts(), parallel.pointCounts());
            assertArrayEquals(sequential.pointToVoxel(), parallel.pointToVoxel());
        }
    }

    @Test
    void featuresAreLaidOutAsAskedFor() {
        PointCloud cloud = cloud(new float[][] {{0, 0, 0}, {1, 2, 3}}, new float[] {7, 9});
        VoxelizedCloud v = new CpuVoxelizer().voxelize(cloud, Voxelization.cubic(1, VoxelReduction.FIRST));
        assertArrayEquals(new float[] {7, 9}, v.features(VoxelFeatures.CHANNELS));
        assertArrayEquals(new float[] {0, 0, 0, 1, 2, 3}, v.features(VoxelFeatures.POSITIONS));
        assertArrayEquals(new float[] {0, 0, 0, 7, 1, 2, 3, 9}, v.features(VoxelFeatures.POSITIONS_AND_CHANNELS));
        assertArrayEquals(new float[] {1, 1}, v.features(VoxelFeatures.OCCUPANCY));
        assertEquals(4, v.featureWidth(VoxelFeatures.POSITIONS_AND_CHANNELS));
        VoxelizedCloud bare = new CpuVoxelizer().voxelize(PointCloud.of(new float[1], new float[1], new float[1]),
                Voxelization.cubic(1, VoxelReduction.FIRST));
        assertEquals(ErrorCode.SHAPE_MISMATCH,
                assertThrows(InvalidInputException.class, () -> bare.features(VoxelFeatures.CHANNELS)).code());
    }

    @Test
    void anInconsistentResultIsRefused() {
        Voxelization v = Voxelization.cubic(1, VoxelReduction.MEAN);
        long a = CoordinateKey.pack(0, 0, 0, 0);
        long b = CoordinateKey.pack(0, 0, 0, 1);
        assertThrows(InvalidInputException.class, () -> new VoxelizedCloud(v, List.of(), new long[] {b, a},
                new float[6], new float[0], new int[] {1, 1}, new int[] {0, 1}));
        assertThrows(InvalidInputException.class, () -> new VoxelizedCloud(v, List.of(), new long[] {a, b},
                new float[6], new float[0], new int[] {1, 1}, new int[] {0, 0}));
        assertThrows(InvalidInputException.class, () -> new VoxelizedCloud(v, List.of(), new long[] {a, b},
                new float[5], new float[0], new int[] {1, 1}, new int[] {0, 1}));
    }

    @Test
    void aCloudWithoutNonFinitePointsIsItsOwnFiniteCloud() {
        PointCloud cloud = PointCloud.of(new float[] {1}, new float[] {2}, new float[] {3});
        assertSame(cloud, cloud.finitePoints());
    }

    /** The serving backend's voxeliser works on the backend's own threads: closed with it, it refuses work. */
    @Test
    void theServingVoxelizerRunsOnTheBackendsThreadsAndStopsWithThem() {
        int n = CpuVoxelizer.DEFAULT_PARALLEL_THRESHOLD + 1000;
        SplittableRandom random = new SplittableRandom(4);
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextDouble(-10, 10);
            y[i] = (float) random.nextDouble(-10, 10);
            z[i] = (float) random.nextDouble(-1, 1);
        }
        PointCloud cloud = PointCloud.of(x, y, z);
        Voxelization v = Voxelization.cubic(0.3, VoxelReduction.MEAN);
        var backend = new CpuBackendProvider().open(0, new CpuOptions(2, false, false));
        var voxelizer = backend.ops().voxelization();
        VoxelizedCloud served = voxelizer.voxelize(cloud, v);
        assertArrayEquals(CpuVoxelizer.sequential().voxelize(cloud, v).positions(), served.positions());
        backend.close();
        // Held past its backend's close, it finds the worker pool shut (the common pool would have run it).
        assertThrows(org.lacuna.runtime.error.ResourceClosedException.class, () -> voxelizer.voxelize(cloud, v));
    }
}

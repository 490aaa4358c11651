package org.lacuna.runtime.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.pointcloud.Voxelizer;
import org.lacuna.runtime.sparseconv.KittiSweep;
import org.lacuna.runtime.testing.GpuSupport;
import org.lacuna.runtime.testing.GpuTest;
import org.lacuna.runtime.testing.TestData;

/** The device voxeliser against {@link Voxelizer#cpu()}: the same result bit for bit, and the same errors. */
@GpuTest
class CudaVoxelizerGpuTest {
    private static Backend backend;
    private static Voxelizer gpu;

    @BeforeAll
    static void open() {
        backend = GpuSupport.openCudaOrSkip();
        gpu = backend.ops().convolution().voxelizer();
        assertInstanceOf(CudaVoxelizer.class, gpu);
    }

    @AfterAll
    static void close() {
        if (backend != null) {
            backend.close();
        }
    }

    private static void assertSame(PointCloud cloud, Voxelization voxelization) {
        VoxelizedCloud expected = Voxelizer.cpu().voxelize(cloud, voxelization);
        VoxelizedCloud actual = gpu.voxelize(cloud, voxelization);
        String what = cloud.size() + " points, " + voxelization;
        assertEquals(expected.channelNames(), actual.channelNames(), what);
        assertArrayEquals(expected.keys(), actual.keys(), what);
        assertArrayEquals(expected.pointCounts(), actual.pointCounts(), what);
        assertArrayEquals(expected.pointToVoxel(), actual.pointToVoxel(), what);
        assertArrayEquals(bits(expected.positions()), bits(actual.positions()), what);
        assertArrayEquals(bits(expected.channels()), bits(actual.channels()), what);
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }

    /** Coordinates on a coarse lattice plus noise, so that many points share voxels, and some points repeat. */
    private static PointCloud randomCloud(SplittableRandom random, int n, float extent, int channels) {
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        float[][] values = new float[channels][n];
        for (int i = 0; i < n; i++) {
            if (i > 0 && random.nextInt(8) == 0) {
                int j = random.nextInt(i);
                x[i] = x[j];
                y[i] = y[j];
                z[i] = z[j];
            } else {
                x[i] = (float) ((random.nextDouble() * 2 - 1) * extent);
                y[i] = (float) ((random.nextDouble() * 2 - 1) * extent);
                z[i] = (float) ((random.nextDouble() * 2 - 1) * extent * 0.25);
            }
            for (int k = 0; k < channels; k++) {
                values[k][i] = (float) (random.nextDouble() * 100 - 50);
            }
        }
        List<String> names = new ArrayList<>();
        for (int k = 0; k < channels; k++) {
            names.add("c" + k);
        }
        return PointCloud.of(x, y, z, names, values);
    }

    @Test
    void randomCloudsMatchTheCpuBitForBit() {
        SplittableRandom random = TestData.random("cudaVoxelizerRandom");
        for (int n : new int[] {1, 7, 1000, 50_000}) {
            for (int channels : new int[] {0, 2}) {
                PointCloud cloud = randomCloud(random, n, 20f, channels);
                for (VoxelReduction reduction : VoxelReduction.values()) {
                    for (double size : new double[] {0.05, 0.3, 1.0, 0.1 / 3}) {
                        assertSame(cloud, Voxelization.cubic(size, reduction));
                    }
                    assertSame(cloud, new Voxelization(0.2, 0.25, 0.5, reduction));
                }
            }
        }
    }

    @Test
    void batchedCloudsKeepTheirSamplesApart() {
        SplittableRandom random = TestData.random("cudaVoxelizerBatches");
        List<PointCloud> samples = new ArrayList<>();
        for (int b = 0; b < 5; b++) {
            samples.add(randomCloud(random, 3000 + 1000 * b, 5f, 1));
        }
        samples.add(samples.get(0));
        PointCloud batch = PointCloud.batchOf(samples);
        for (VoxelReduction reduction : VoxelReduction.values()) {
            assertSame(batch, Voxelization.cubic(0.1, reduction));
            assertSame(batch, Voxelization.cubic(0.5, reduction));
        }
    }

    @Test
    void crowdedVoxelsTakeTheHostOrderingPathAndStillMatch() {
        SplittableRandom random = TestData.random("cudaVoxelizerCrowded");
        // Voxels of several thousand points: more than the device's per-voxel sort limit.
        PointCloud cloud = randomCloud(random, 40_000, 3f, 2);
        assertTrue(40_000 / 8 > CudaVoxelizer.DEVICE_SORT_LIMIT);
        for (VoxelReduction reduction : VoxelReduction.values()) {
            assertSame(cloud, Voxelization.cubic(4.0, reduction));
            assertSame(cloud, Voxelization.cubic(100.0, reduction));
        }
    }

    @Test
    void badPointsFailAsOnTheCpu() {
        int n = 100_000;
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        y[n - 3] = Float.NaN;
        z[40_000] = Float.POSITIVE_INFINITY;
        x[70_000] = 1e9f;
        assertSameError(PointCloud.of(x, y, z), Voxelization.cubic(0.1, VoxelReduction.MEAN), "point 40000");
        z[40_000] = 0;
        assertSameError(PointCloud.of(x, y, z), Voxelization.cubic(0.1, VoxelReduction.FIRST), "point 70000");
        x[70_000] = 0;
        assertSameError(PointCloud.of(x, y, z), Voxelization.cubic(0.1, VoxelReduction.MEAN), "point " + (n - 3));
        y[n - 3] = 0;
        // Just outside the key range on the negative side: -32769 voxels.
        x[5] = -32768.5f;
        assertSameError(PointCloud.of(x, y, z), Voxelization.cubic(1.0, VoxelReduction.FIRST), "point 5");
        x[5] = -32768f;
        z[6] = 32767.99f;
        assertSame(PointCloud.of(x, y, z), Voxelization.cubic(1.0, VoxelReduction.MEAN));
        assertSameError(PointCloud.of(new float[0], new float[0], new float[0]),
                Voxelization.cubic(1.0, VoxelReduction.MEAN), "empty");
    }

    private static void assertSameError(PointCloud cloud, Voxelization voxelization, String mentions) {
        var expected = assertThrows(InvalidInputException.class, () -> Voxelizer.cpu().voxelize(cloud, voxelization));
        var actual = assertThrows(InvalidInputException.class, () -> gpu.voxelize(cloud, voxelization));
        assertEquals(expected.getMessage(), actual.getMessage());
        assertEquals(((LacunaException) expected).code(), ((LacunaException) actual).code());
        assertTrue(actual.getMessage().contains(mentions), actual.getMessage());
    }

    @Test
    void theKittiSweepMatchesTheCpuBitForBit() {
        PointCloud sweep = KittiSweep.readSweep();
        for (VoxelReduction reduction : VoxelReduction.values()) {
            for (double size : new double[] {0.05, 0.1, 0.2, 2.0}) {
                assertSame(sweep, Voxelization.cubic(size, reduction));
            }
        }
        assertSame(PointCloud.batchOf(List.of(sweep, sweep)), Voxelization.cubic(0.05, VoxelReduction.MEAN));
    }
}

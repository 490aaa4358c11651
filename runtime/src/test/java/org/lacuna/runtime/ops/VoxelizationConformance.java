package org.lacuna.runtime.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.sparseconv.KittiSweep;
import org.lacuna.runtime.testing.TestData;

/**
 * What every backend's voxeliser must return: exactly what the {@code cpu-reference} backend returns, bit for bit
 * (keys, per-voxel counts, point-to-voxel, positions and channels), and the same errors with the same messages, as
 * {@link VoxelizationOps} documents. The reference itself is checked against voxels grouped by hand here. Clouds are
 * random with many shared voxels and exact repeats, batched, crowded, and the real KITTI sweep. Subclasses supply
 * the backend.
 */
public abstract class VoxelizationConformance extends BackendConformance {
    private Backend reference;

    @BeforeAll
    void openReference() {
        reference = new ReferenceBackendProvider().open(0);
    }

    @AfterAll
    void closeReference() {
        if (reference != null) {
            reference.close();
        }
    }

    protected VoxelizationOps ops() {
        return backend.ops().voxelization();
    }

    protected void assertSameAsReference(PointCloud cloud, Voxelization voxelization) {
        VoxelizedCloud expected = reference.ops().voxelization().voxelize(cloud, voxelization);
        VoxelizedCloud actual = ops().voxelize(cloud, voxelization);
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
    protected static PointCloud randomCloud(SplittableRandom random, int n, float extent, int channels) {
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
    void theReferenceIsTheDocumentedFunction() {
        // Voxels grouped by hand: a sorted map from key (in CoordinateKey order) to the voxel's points in input order.
        PointCloud cloud = randomCloud(TestData.random("voxelsByHand"), 3000, 2f, 1);
        Voxelization voxelization = new Voxelization(0.2, 0.25, 0.5, VoxelReduction.MEAN);
        TreeMap<Long, List<Integer>> voxels = new TreeMap<>(CoordinateKey::compare);
        for (int i = 0; i < cloud.size(); i++) {
            long key = CoordinateKey.pack(cloud.batchIndex(i), (int) Voxelization.cell(cloud.x(i), 0.2),
                    (int) Voxelization.cell(cloud.y(i), 0.25), (int) Voxelization.cell(cloud.z(i), 0.5));
            voxels.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
        }
        VoxelizedCloud actual = reference.ops().voxelization().voxelize(cloud, voxelization);
        assertEquals(voxels.size(), actual.voxelCount());
        int[] counts = actual.pointCounts();
        int[] pointToVoxel = actual.pointToVoxel();
        float[] positions = actual.positions();
        float[] channels = actual.channels();
        int v = 0;
        for (var entry : voxels.entrySet()) {
            List<Integer> points = entry.getValue();
            assertEquals(entry.getKey(), actual.key(v));
            assertEquals(points.size(), counts[v]);
            double x = 0;
            double intensity = 0;
            for (int p : points) {
                assertEquals(v, pointToVoxel[p]);
                x += cloud.x(p);
                intensity += cloud.channelValue(0, p);
            }
            assertEquals((float) (x / points.size()), positions[3 * v], 0f, "voxel " + v);
            assertEquals((float) (intensity / points.size()), channels[v], 0f, "voxel " + v);
            v++;
        }
    }

    @Test
    void randomCloudsMatchTheReferenceBitForBit() {
        SplittableRandom random = TestData.random("voxelizationRandom");
        for (int n : new int[] {1, 7, 1000, 20_000}) {
            for (int channels : new int[] {0, 2}) {
                PointCloud cloud = randomCloud(random, n, 20f, channels);
                for (VoxelReduction reduction : VoxelReduction.values()) {
                    for (double size : new double[] {0.05, 0.3, 1.0, 0.1 / 3}) {
                        assertSameAsReference(cloud, Voxelization.cubic(size, reduction));
                    }
                    assertSameAsReference(cloud, new Voxelization(0.2, 0.25, 0.5, reduction));
                }
            }
        }
    }

    @Test
    void batchedCloudsKeepTheirSamplesApart() {
        SplittableRandom random = TestData.random("voxelizationBatches");
        List<PointCloud> samples = new ArrayList<>();
        for (int b = 0; b < 5; b++) {
            samples.add(randomCloud(random, 1000 + 500 * b, 5f, 1));
        }
        samples.add(samples.get(0));
        PointCloud batch = PointCloud.batchOf(samples);
        for (VoxelReduction reduction : VoxelReduction.values()) {
            assertSameAsReference(batch, Voxelization.cubic(0.1, reduction));
            assertSameAsReference(batch, Voxelization.cubic(0.5, reduction));
        }
    }

    @Test
    void crowdedVoxelsMatch() {
        // Voxels of thousands of points, down to a single voxel holding the whole cloud.
        PointCloud cloud = randomCloud(TestData.random("voxelizationCrowded"), 40_000, 3f, 2);
        for (VoxelReduction reduction : VoxelReduction.values()) {
            assertSameAsReference(cloud, Voxelization.cubic(4.0, reduction));
            assertSameAsReference(cloud, Voxelization.cubic(100.0, reduction));
        }
    }

    @Test
    void badPointsFailAsOnTheReference() {
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
        assertSameAsReference(PointCloud.of(x, y, z), Voxelization.cubic(1.0, VoxelReduction.MEAN));
        assertSameError(PointCloud.of(new float[0], new float[0], new float[0]),
                Voxelization.cubic(1.0, VoxelReduction.MEAN), "empty");
        assertTrue(assertThrows(InvalidInputException.class, () -> ops().voxelize(null, Voxelization.cubic(1.0,
                VoxelReduction.MEAN))).getMessage().contains("the point cloud is null"));
        assertTrue(assertThrows(InvalidInputException.class, () -> ops().voxelize(PointCloud.of(x, y, z), null))
                .getMessage().contains("the voxelization is null"));
        // The backend stays usable after each failure.
        assertSameAsReference(PointCloud.of(new float[] {1}, new float[] {2}, new float[] {3}),
                Voxelization.cubic(1.0, VoxelReduction.FIRST));
    }

    private void assertSameError(PointCloud cloud, Voxelization voxelization, String mentions) {
        var expected = assertThrows(InvalidInputException.class,
                () -> reference.ops().voxelization().voxelize(cloud, voxelization));
        var actual = assertThrows(InvalidInputException.class, () -> ops().voxelize(cloud, voxelization));
        assertEquals(expected.getMessage(), actual.getMessage());
        assertEquals(((LacunaException) expected).code(), ((LacunaException) actual).code());
        assertTrue(actual.getMessage().contains(mentions), actual.getMessage());
    }

    @Test
    void theKittiSweepMatchesTheReferenceBitForBit() {
        PointCloud sweep = KittiSweep.readSweep();
        for (VoxelReduction reduction : VoxelReduction.values()) {
            for (double size : new double[] {0.05, 0.2, 2.0}) {
                assertSameAsReference(sweep, Voxelization.cubic(size, reduction));
            }
        }
        assertSameAsReference(PointCloud.batchOf(List.of(sweep, sweep)), Voxelization.cubic(0.05, VoxelReduction.MEAN));
    }
}

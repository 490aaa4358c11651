package org.lacuna.runtime.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.sparseconv.Int3;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.ResidentVoxels;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
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

    // ---- Resident voxelisation: the same voxels, left where the backend computed them ----

    /**
     * {@link VoxelizationOps#voxelizeResident} holds the reference's keys and selected features, rounded once to the
     * feature type, for every selection and type: on clouds with and without channels, both reductions, and the
     * KITTI sweep; what a consumer takes is its own, what it leaves is freed with the result.
     */
    @Test
    void residentVoxelsAreTheReferenceVoxelsBitForBit() {
        SplittableRandom random = TestData.random("residentVoxels");
        List<PointCloud> clouds = List.of(randomCloud(random, 2500, 3f, 2), randomCloud(random, 700, 1f, 0),
                PointCloud.batchOf(List.of(randomCloud(random, 300, 2f, 1), randomCloud(random, 1, 2f, 1))));
        for (PointCloud cloud : clouds) {
            for (VoxelReduction reduction : VoxelReduction.values()) {
                Voxelization voxelization = new Voxelization(0.3, 0.2, 0.25, reduction);
                for (VoxelFeatures features : VoxelFeatures.values()) {
                    if (features == VoxelFeatures.CHANNELS && cloud.channelCount() == 0) {
                        continue;
                    }
                    for (DType type : List.of(DType.F32, DType.F16, DType.BF16)) {
                        assertResidentAsReference(cloud, voxelization, features, type);
                    }
                }
            }
        }
        assertResidentAsReference(KittiSweep.readSweep(), Voxelization.cubic(0.2, VoxelReduction.MEAN),
                VoxelFeatures.POSITIONS_AND_CHANNELS, DType.F16);
    }

    private void assertResidentAsReference(PointCloud cloud, Voxelization voxelization, VoxelFeatures features,
                                           DType type) {
        VoxelizedCloud expected = reference.ops().voxelization().voxelize(cloud, voxelization);
        String what = cloud.size() + " points, " + voxelization + ", " + features + " as " + type;
        try (ResidentVoxels actual = ops().voxelizeResident(cloud, voxelization, features, type)) {
            assertEquals(expected.voxelCount(), actual.voxelCount(), what);
            assertEquals(cloud.size(), actual.pointCount(), what);
            assertArrayEquals(expected.keys(), actual.keys(), what);
            assertEquals(type, actual.featureType(), what);
            assertEquals(expected.featureWidth(features), actual.featureWidth(), what);
            DeviceArray keys = actual.takeKeys();
            try {
                assertEquals(Shape.of(expected.voxelCount()), keys.shape(), what);
                assertArrayEquals(expected.keys(), HostData.downloadLongs(backend, keys), what);
            } finally {
                keys.buffer().close();
            }
            float[] want = expected.features(features);
            for (int i = 0; i < want.length; i++) {
                want[i] = HalfFloats.roundTo(type, want[i]);
            }
            // Left in the result: freed when it closes.
            DeviceArray left = actual.features();
            assertArrayEquals(bits(want), bits(HostData.downloadFloats(backend, left)), what);
            assertThrows(ResourceClosedException.class, actual::takeKeys, "taken once");
        }
    }

    @Test
    void residentVoxelisationFailsAsVoxelisationDoes() {
        float[] x = {0, 1, Float.NaN, 3};
        PointCloud bad = PointCloud.of(x, new float[4], new float[4]);
        Voxelization voxelization = Voxelization.cubic(1.0, VoxelReduction.MEAN);
        var expected = assertThrows(InvalidInputException.class,
                () -> reference.ops().voxelization().voxelize(bad, voxelization));
        var actual = assertThrows(InvalidInputException.class,
                () -> ops().voxelizeResident(bad, voxelization, VoxelFeatures.POSITIONS, DType.F32));
        assertEquals(expected.getMessage(), actual.getMessage());
        PointCloud good = PointCloud.of(new float[] {1, 2}, new float[2], new float[2]);
        var noChannels = assertThrows(InvalidInputException.class,
                () -> ops().voxelizeResident(good, voxelization, VoxelFeatures.CHANNELS, DType.F32));
        assertTrue(noChannels.getMessage().contains("no channels"), noChannels.getMessage());
        var integer = assertThrows(InvalidInputException.class,
                () -> ops().voxelizeResident(good, voxelization, VoxelFeatures.POSITIONS, DType.I32));
        assertTrue(integer.getMessage().contains("I32"), integer.getMessage());
        assertThrows(InvalidInputException.class,
                () -> ops().voxelizeResident(good, voxelization, null, DType.F32));
        // Still usable.
        assertResidentAsReference(good, voxelization, VoxelFeatures.OCCUPANCY, DType.F16);
    }

    // ---- The ops on device arrays: pooling, bird's-eye view, devoxelisation, against the reference ----

    /**
     * Element by element within {@code terms} fp32 roundings of {@code scale} (the largest magnitude summed) plus one
     * rounding to the output type; exact where terms is 0. Every element written (the outputs start as NaN).
     */
    private static void assertClose(float[] expected, float[] actual, int terms, double scale, DType out,
                                    String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tolerance = terms == 0 ? 0 : terms * scale * 0x1p-23 + TestData.ulp(out, expected[i]);
            if (Float.isNaN(expected[i])) {
                assertTrue(Float.isNaN(actual[i]), what + " at " + i);
            } else {
                assertFalse(Float.isNaN(actual[i]), what + ": element " + i + " not written");
                assertEquals(expected[i], actual[i], tolerance, what + " at " + i);
            }
        }
    }

    @Test
    void batchPoolingMatchesTheReferenceOnRaggedSamplesWithEmptyOnes() {
        SplittableRandom random = TestData.random("batchPool");
        int[] lo = {-20, -20, -5};
        int[] extent = {40, 40, 10};
        for (int rows : new int[] {1, 5, 300}) {
            for (int c : new int[] {1, 3, 17}) {
                for (DType dtype : List.of(DType.F32, DType.F16, DType.BF16)) {
                    // Samples 1 and 3 (the last) hold no row: their outputs must be zeros.
                    SparseCases.Coordinates coords = SparseCases.random(random, rows, 4, Set.of(1, 3), lo, extent,
                            new int[] {1, 1, 1});
                    float[] features = TestData.uniform(random, coords.rows() * c, 8f, dtype);
                    for (BatchPooling pooling : BatchPooling.values()) {
                        String what = pooling + " " + dtype + " " + coords.rows() + "x" + c;
                        float[] expected = VoxelOpRuns.batchPool(reference, coords, features, dtype, c, pooling);
                        float[] actual = VoxelOpRuns.batchPool(backend, coords, features, dtype, c, pooling);
                        assertClose(expected, actual, pooling == BatchPooling.MAX ? 0 : coords.rows(), 8, DType.F32,
                                what);
                        for (int ch = 0; ch < c; ch++) {
                            assertEquals(0f, actual[c + ch], what + ": an empty sample pools to zero");
                            assertEquals(0f, actual[3 * c + ch], what + ": an empty sample pools to zero");
                        }
                    }
                }
            }
        }
    }

    @Test
    void bevProjectionMatchesTheReferenceAtSeveralStridesAndOrigins() {
        SplittableRandom random = TestData.random("bevProject");
        for (int[] stride : new int[][] {{1, 1, 1}, {2, 2, 4}}) {
            for (DType dtype : List.of(DType.F32, DType.BF16)) {
                // Coordinates in [-6, 14) x [-3, 7) x [-2, 3) stride units; the grid starts at the lowest.
                SparseCases.Coordinates coords = SparseCases.random(random, 400, 3, Set.of(1), new int[] {-6, -3, -2},
                        new int[] {20, 10, 5}, stride);
                BevGrid grid = new BevGrid(Int3.of(-6 * stride[0], -3 * stride[1], -2 * stride[2]), Int3.of(20, 10, 5));
                int c = 3;
                float[] features = TestData.uniform(random, coords.rows() * c, 4f, dtype);
                for (BevReduction reduction : BevReduction.values()) {
                    String what = reduction + " " + dtype + " stride " + Arrays.toString(stride);
                    Int3 s = Int3.of(stride[0], stride[1], stride[2]);
                    float[] expected = VoxelOpRuns.bevProject(reference, coords, features, dtype, c, s, grid, reduction);
                    float[] actual = VoxelOpRuns.bevProject(backend, coords, features, dtype, c, s, grid, reduction);
                    assertClose(expected, actual, reduction == BevReduction.SUM ? 5 : 0, 4, DType.F32, what);
                }
            }
        }
    }

    @Test
    void rowsOutsideTheGridOrTheSamplesAreLeftOut() {
        // Row 0 in the grid, row 1 beyond x, row 2 of sample 5 when the output holds 2: only row 0 lands.
        SparseCases.Coordinates coords = new SparseCases.Coordinates(new int[] {0, 1, 1, 0, 0, 9, 1, 0, 5, 1, 1, 0},
                2);
        BevGrid grid = new BevGrid(Int3.of(0, 0, 0), Int3.of(4, 4, 1));
        float[] features = {1f, 2f, 3f};
        float[] actual = VoxelOpRuns.bevProject(backend, coords, features, DType.F32, 1, Int3.cubic(1), grid, BevReduction.SUM);
        float[] pooled = VoxelOpRuns.batchPool(backend, coords, features, DType.F32, 1, BatchPooling.MEAN);
        assertEquals(1f, actual[1 * 4 + 1]);
        assertEquals(1f, (float) Arrays.stream(toDoubles(actual)).sum());
        // Sample 0 holds rows 0 and 1 (row 1 is outside the grid, not outside the samples).
        assertArrayEquals(new float[] {1.5f, 0f}, pooled);
    }

    @Test
    void devoxelizationMatchesTheReferenceOnRandomCloudsAndStrides() {
        SplittableRandom random = TestData.random("devoxelize");
        for (int n : new int[] {1, 9, 700}) {
            List<PointCloud> samples = new ArrayList<>();
            for (int b = 0; b < 3; b++) {
                samples.add(randomCloud(random, n, 3f, 0));
            }
            PointCloud cloud = PointCloud.batchOf(samples);
            Voxelization voxelization = new Voxelization(0.2, 0.25, 0.3, VoxelReduction.MEAN);
            SparseCases.Coordinates voxels = SparseCases.of(reference.ops().voxelization().voxelize(cloud,
                    voxelization));
            for (int strideValue : new int[] {1, 2}) {
                SparseCases.Coordinates coords = strideValue == 1 ? voxels : strided(voxels, strideValue);
                for (DType dtype : List.of(DType.F32, DType.F16)) {
                    int c = 5;
                    float[] features = TestData.uniform(random, coords.rows() * c, 10f, dtype);
                    for (PointInterpolation interpolation : PointInterpolation.values()) {
                        String what = interpolation + " " + dtype + " n " + n + " stride " + strideValue;
                        Int3 stride = Int3.cubic(strideValue);
                        float[] expected = VoxelOpRuns.devoxelize(reference, coords, features, dtype, c, stride, cloud,
                                voxelization, interpolation);
                        float[] actual = VoxelOpRuns.devoxelize(backend, coords, features, dtype, c, stride, cloud, voxelization,
                                interpolation);
                        assertClose(expected, actual, interpolation == PointInterpolation.NEAREST ? 0 : 24, 10,
                                dtype, what);
                    }
                }
            }
        }
    }

    @Test
    void theOpsOnDeviceArraysMatchTheReferenceOnTheKittiSweep() {
        PointCloud sweep = KittiSweep.readSweep();
        Voxelization voxelization = Voxelization.cubic(0.2, VoxelReduction.MEAN);
        SparseCases.Coordinates coords = SparseCases.of(reference.ops().voxelization().voxelize(sweep, voxelization));
        SplittableRandom random = TestData.random("kittiVoxelOps");
        int c = 4;
        float[] features = TestData.uniform(random, coords.rows() * c, 2f, DType.F32);
        for (PointInterpolation interpolation : PointInterpolation.values()) {
            float[] expected = VoxelOpRuns.devoxelize(reference, coords, features, DType.F32, c, Int3.cubic(1), sweep,
                    voxelization, interpolation);
            float[] actual = VoxelOpRuns.devoxelize(backend, coords, features, DType.F32, c, Int3.cubic(1), sweep, voxelization,
                    interpolation);
            assertClose(expected, actual, interpolation == PointInterpolation.NEAREST ? 0 : 24, 2, DType.F32,
                    "KITTI " + interpolation);
        }
        for (BatchPooling pooling : BatchPooling.values()) {
            assertClose(VoxelOpRuns.batchPool(reference, coords, features, DType.F32, c, pooling),
                    VoxelOpRuns.batchPool(backend, coords, features, DType.F32, c, pooling),
                    pooling == BatchPooling.MAX ? 0 : coords.rows(), 2, DType.F32, "KITTI " + pooling);
        }
        // The sweep's voxels at stride 4 on a BEV grid that holds them all.
        SparseCases.Coordinates coarse = strided(coords, 4);
        int[] lo = {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE};
        int[] hi = {Integer.MIN_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE};
        for (int r = 0; r < coarse.rows(); r++) {
            for (int a = 0; a < 3; a++) {
                lo[a] = Math.min(lo[a], coarse.values()[4 * r + 1 + a]);
                hi[a] = Math.max(hi[a], coarse.values()[4 * r + 1 + a]);
            }
        }
        BevGrid grid = new BevGrid(Int3.of(lo[0], lo[1], lo[2]), Int3.of((hi[0] - lo[0]) / 4 + 1,
                (hi[1] - lo[1]) / 4 + 1, (hi[2] - lo[2]) / 4 + 1));
        float[] coarseFeatures = Arrays.copyOf(features, coarse.rows() * c);
        for (BevReduction reduction : BevReduction.values()) {
            assertClose(VoxelOpRuns.bevProject(reference, coarse, coarseFeatures, DType.F32, c, Int3.cubic(4), grid, reduction),
                    VoxelOpRuns.bevProject(backend, coarse, coarseFeatures, DType.F32, c, Int3.cubic(4), grid, reduction),
                    reduction == BevReduction.SUM ? grid.cells().z() : 0, 2, DType.F32, "KITTI BEV " + reduction);
        }
    }

    @Test
    void badArgumentsOfTheOpsOnDeviceArraysFailNamingTheProblem() {
        DeviceArray features = HostData.upload(backend, DType.F32, Shape.of(2, 3), new float[6]);
        DeviceArray coords = HostData.upload(backend, Shape.of(2, 4), new int[8]);
        DeviceArray wrongRows = HostData.upload(backend, Shape.of(3, 4), new int[12]);
        DeviceArray pooled = HostData.upload(backend, DType.F32, Shape.of(1, 2), new float[2]);
        DeviceArray points = HostData.upload(backend, DType.F32, Shape.of(1, 2), new float[2]);
        DeviceArray batches = HostData.upload(backend, Shape.of(1), new int[1]);
        DeviceArray dense = HostData.upload(backend, DType.F32, Shape.of(1, 3, 2, 2), new float[12]);
        try {
            VoxelizationOps ops = ops();
            assertTrue(assertThrows(InvalidInputException.class, () -> ops.batchPool(features, wrongRows,
                    BatchPooling.MAX, pooled)).getMessage().contains("coordinates must be I32 [2, 4]"));
            assertTrue(assertThrows(InvalidInputException.class, () -> ops.batchPool(features, coords,
                    BatchPooling.MAX, pooled)).getMessage().contains("out must be F32 [batches, 3]"));
            assertTrue(assertThrows(InvalidInputException.class, () -> ops.batchPool(features, coords, null,
                    pooled)).getMessage().contains("pooling is null"));
            BevGrid grid = new BevGrid(Int3.of(0, 0, 0), Int3.of(2, 2, 1));
            assertTrue(assertThrows(InvalidInputException.class, () -> ops.bevProject(features, coords,
                    Int3.of(1, 0, 1), grid, BevReduction.SUM, dense)).getMessage().contains("tensor stride"));
            assertTrue(assertThrows(InvalidInputException.class, () -> ops.bevProject(features, coords,
                    Int3.cubic(1), grid, BevReduction.STACK_Z, pooled)).getMessage().contains("out must be F32"));
            assertTrue(assertThrows(InvalidInputException.class, () -> ops.devoxelize(features, coords,
                    Int3.cubic(1), points, batches, Voxelization.cubic(1, VoxelReduction.MEAN),
                    PointInterpolation.NEAREST, pooled)).getMessage().contains("points must be F32 [P, 3]"));
            assertTrue(assertThrows(InvalidInputException.class, () -> new BevGrid(Int3.cubic(0), Int3.of(1, 0, 1)))
                    .getMessage().contains("must be positive"));
            // The backend stays usable.
            ops.bevProject(features, coords, Int3.cubic(1), grid, BevReduction.SUM, dense);
        } finally {
            for (DeviceArray a : List.of(features, coords, wrongRows, pooled, points, batches, dense)) {
                a.buffer().close();
            }
        }
    }

    @Test
    void theOpsOnDeviceArraysRefuseTensorsOfAnotherBackend() {
        // The reference's tensors, or for the reference itself the serving CPU backend's.
        Backend own = backend.name().equals(ReferenceBackendProvider.NAME) ? new CpuBackendProvider().open(0) : null;
        Backend other = own != null ? own : reference;
        DeviceArray features = HostData.upload(backend, DType.F32, Shape.of(2, 3), new float[6]);
        DeviceArray foreignCoords = HostData.upload(other, Shape.of(2, 4), new int[8]);
        DeviceArray pooled = HostData.upload(backend, DType.F32, Shape.of(1, 3), new float[3]);
        DeviceArray dense = HostData.upload(backend, DType.F32, Shape.of(1, 3, 2, 2), new float[12]);
        DeviceArray points = HostData.upload(backend, DType.F32, Shape.of(1, 3), new float[3]);
        DeviceArray batches = HostData.upload(backend, Shape.of(1), new int[1]);
        DeviceArray pointFeatures = HostData.upload(backend, DType.F32, Shape.of(1, 3), new float[3]);
        String expected = "lives on the " + other.name() + " backend but this op runs on " + backend.name();
        try {
            VoxelizationOps ops = ops();
            BevGrid grid = new BevGrid(Int3.of(0, 0, 0), Int3.of(2, 2, 1));
            for (org.junit.jupiter.api.function.Executable call : List.<org.junit.jupiter.api.function.Executable>of(
                    () -> ops.batchPool(features, foreignCoords, BatchPooling.MEAN, pooled),
                    () -> ops.bevProject(features, foreignCoords, Int3.cubic(1), grid, BevReduction.SUM, dense),
                    () -> ops.devoxelize(features, foreignCoords, Int3.cubic(1), points, batches,
                            Voxelization.cubic(1, VoxelReduction.MEAN), PointInterpolation.NEAREST, pointFeatures))) {
                String message = assertThrows(InvalidInputException.class, call).getMessage();
                assertTrue(message.contains(expected), message);
            }
        } finally {
            for (DeviceArray a : List.of(features, foreignCoords, pooled, dense, points, batches, pointFeatures)) {
                a.buffer().close();
            }
            if (own != null) {
                own.close();
            }
        }
    }

    /** Each coordinate floored to a multiple of {@code stride}, duplicates dropped (a strided layer's outputs). */
    protected static SparseCases.Coordinates strided(SparseCases.Coordinates coords, int stride) {
        java.util.LinkedHashSet<Long> keys = new java.util.LinkedHashSet<>();
        for (int r = 0; r < coords.rows(); r++) {
            int[] v = coords.values();
            keys.add(CoordinateKey.pack(v[4 * r], Math.floorDiv(v[4 * r + 1], stride) * stride,
                    Math.floorDiv(v[4 * r + 2], stride) * stride, Math.floorDiv(v[4 * r + 3], stride) * stride));
        }
        int[] out = new int[4 * keys.size()];
        int r = 0;
        for (long key : keys) {
            out[4 * r] = CoordinateKey.batch(key);
            out[4 * r + 1] = CoordinateKey.x(key);
            out[4 * r + 2] = CoordinateKey.y(key);
            out[4 * r + 3] = CoordinateKey.z(key);
            r++;
        }
        return new SparseCases.Coordinates(out, coords.batches());
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}

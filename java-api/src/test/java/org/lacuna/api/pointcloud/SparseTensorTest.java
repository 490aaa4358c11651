package org.lacuna.api.pointcloud;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;

class SparseTensorTest {
    private static Session cpu() {
        return Lacuna.open("cpu", 0);
    }

    @Test
    void hostDataRoundTripsThroughTheDevice() {
        try (Session s = cpu()) {
            int[] coordinates = {0, 2, 4, -6, 1, 0, 0, 0};
            float[] features = {1, 2, 3, 4, 5, 6};
            try (SparseTensor t = SparseTensor.of(s, coordinates, features, 3, DType.F32, 2, 2, 2)) {
                assertEquals(2, t.size());
                assertEquals(3, t.channels());
                assertArrayEquals(new int[] {2, 2, 2}, t.tensorStride());
                assertEquals(DType.I32, t.coordinates().dtype());
                assertArrayEquals(new long[] {2, 4}, t.coordinates().shape().dims());
                assertArrayEquals(coordinates, t.coordinates().toIntArray());
                assertArrayEquals(features, t.features().toFloatArray());
                assertTrue(t.toString().contains("2 coordinates, 3 F32 channels, stride [2, 2, 2]"), t.toString());
            }
        }
    }

    @Test
    void withoutAStrideTheGridIsUnitAndTheRealChecksSpeak() {
        try (Session s = cpu()) {
            try (SparseTensor t = SparseTensor.of(s, new int[] {0, 3, -1, 7}, new float[] {2}, 1, DType.F32)) {
                assertArrayEquals(new int[] {1, 1, 1}, t.tensorStride());
                assertArrayEquals(new int[] {0, 3, -1, 7}, t.coordinates().toIntArray());
            }
            var duplicate = assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(s, new int[] {0, 1, 1, 1, 0, 1, 1, 1}, new float[2], 1, DType.F32));
            assertTrue(duplicate.getMessage().contains("row 1 repeats (0, 1, 1, 1)"), duplicate.getMessage());
            var range = assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(s, new int[] {0, Integer.MAX_VALUE, 0, 0}, new float[1], 1, DType.F32));
            assertFalse(range.getMessage().contains("stride"), range.getMessage());
            var nulls = assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(null, new int[] {0, 0, 0, 0}, new float[1], 1, DType.F32));
            assertTrue(nulls.getMessage().contains("session is null"), nulls.getMessage());
            assertThrows(InvalidInputException.class, () -> SparseTensor.of(s, null, new float[1], 1, DType.F32));
            try (Tensor c = s.fromInts(new int[] {0, 5, 5, 5}, 1, 4); Tensor f = s.fromFloats(new float[] {1},
                    DType.F32, 1, 1); SparseTensor wrapped = SparseTensor.fromTensors(c, f)) {
                assertArrayEquals(new int[] {1, 1, 1}, wrapped.tensorStride());
            }
        }
        Session closed = cpu();
        closed.close();
        assertThrows(ResourceClosedException.class,
                () -> SparseTensor.of(closed, new int[] {0, 0, 0, 0}, new float[1], 1, DType.F32));
    }

    @Test
    void duplicatesAreRejectedNamingTheFirstRepeat() {
        try (Session s = cpu()) {
            int[] coordinates = {0, 1, 1, 1, 0, 2, 2, 2, 0, 1, 1, 1};
            var e = assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(s, coordinates, new float[3], 1, DType.F32, 1, 1, 1));
            assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
            assertTrue(e.getMessage().contains("row 2 repeats (0, 1, 1, 1)"), e.getMessage());
            assertTrue(e.getMessage().contains("of row 0"), e.getMessage());
            assertEquals(0, s.memoryStats().inUseBytes(), "nothing was uploaded");
        }
    }

    @Test
    void shapeAndRangeMistakesAreClear() {
        try (Session s = cpu()) {
            var channels = assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(s, new int[] {0, 0, 0, 0, 0, 1, 0, 0}, new float[5], 3, DType.F32, 1, 1, 1));
            assertEquals(ErrorCode.SHAPE_MISMATCH, channels.code());
            assertTrue(channels.getMessage().contains("channel mismatch: 5 feature values for 2 coordinates × 3"
                    + " channels (6 expected)"), channels.getMessage());
            assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(s, new int[] {0, 0, 0}, new float[1], 1, DType.F32, 1, 1, 1));
            assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(s, new int[0], new float[0], 1, DType.F32, 1, 1, 1));
            assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(s, new int[] {0, 0, 0, 0}, new float[1], 0, DType.F32, 1, 1, 1));
            var range = assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(s, new int[] {0, 0, 40000, 0}, new float[1], 1, DType.F32, 1, 1, 1));
            assertTrue(range.getMessage().contains("outside the representable range"), range.getMessage());
            var grid = assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(s, new int[] {0, 3, 0, 0}, new float[1], 1, DType.F32, 2, 2, 2));
            assertTrue(grid.getMessage().contains("not on the grid of tensor stride [2, 2, 2]"), grid.getMessage());
            assertEquals(ErrorCode.DTYPE_MISMATCH, assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(s, new int[] {0, 0, 0, 0}, new float[1], 1, DType.I32, 1, 1, 1)).code());
            assertThrows(InvalidInputException.class,
                    () -> SparseTensor.of(s, new int[] {0, 0, 0, 0}, new float[1], 1, DType.F32, 1, 1));
        }
    }

    @Test
    void voxelsBecomeASparseTensorWithTheChosenFeatures() {
        PointCloud cloud = PointCloud.of(new float[] {0.05f, 0.15f, 0.06f}, new float[] {0, 0, 0},
                new float[] {0, 0, 0}, List.of("intensity"), new float[][] {{1, 2, 3}});
        try (Session s = cpu()) {
            VoxelizedCloud voxels = s.backend().ops().voxelization().voxelize(cloud, Voxelization.cubic(0.1, VoxelReduction.MEAN));
            try (SparseTensor t = SparseTensor.fromVoxels(s, voxels, VoxelFeatures.CHANNELS, DType.F16)) {
                assertArrayEquals(new int[] {0, 0, 0, 0, 0, 1, 0, 0}, t.coordinates().toIntArray());
                assertArrayEquals(new float[] {2, 2}, t.features().toFloatArray());
                assertEquals(DType.F16, t.featureType());
                assertArrayEquals(new int[] {1, 1, 1}, t.tensorStride());
            }
            try (SparseTensor t = SparseTensor.voxelize(s, cloud, Voxelization.cubic(1, VoxelReduction.FIRST),
                    VoxelFeatures.OCCUPANCY, DType.F32)) {
                assertEquals(1, t.size());
                assertArrayEquals(new float[] {1}, t.features().toFloatArray());
            }
        }
    }

    /**
     * Voxelising where the backend keeps the voxels gives the tensor the host path uploads, on the serving backend
     * and the reference, and frees all of it when closed: the features are the session's, the keys the set's.
     */
    @Test
    void residentVoxelsMakeTheTensorTheHostVoxelsMake() {
        java.util.Random random = new java.util.Random(17);
        int n = 900;
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        float[] intensity = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = random.nextFloat() * 4 - 2;
            y[i] = random.nextFloat() * 4 - 2;
            z[i] = random.nextFloat() - 0.5f;
            intensity[i] = random.nextFloat();
        }
        PointCloud cloud = PointCloud.of(x, y, z, List.of("intensity"), new float[][] {intensity});
        Voxelization voxelization = Voxelization.cubic(0.25, VoxelReduction.MEAN);
        for (String backend : List.of("cpu", "cpu-reference")) {
            try (Session s = Lacuna.open(backend, 0)) {
                VoxelizedCloud host = s.backend().ops().voxelization().voxelize(cloud, voxelization);
                try (SparseTensor expected = SparseTensor.fromVoxels(s, host, VoxelFeatures.POSITIONS_AND_CHANNELS,
                        DType.BF16);
                     SparseTensor actual = SparseTensor.voxelize(s, cloud, voxelization,
                             VoxelFeatures.POSITIONS_AND_CHANNELS, DType.BF16)) {
                    assertArrayEquals(expected.coordinates().toIntArray(), actual.coordinates().toIntArray(), backend);
                    assertArrayEquals(expected.features().toFloatArray(), actual.features().toFloatArray(), backend);
                    assertEquals(DType.BF16, actual.featureType());
                    assertEquals(host.voxelCount(), actual.coordinateSet().size());
                    assertTrue(actual.coordinateSet().isResident(), "the keys are the set's on the backend");
                }
                assertEquals(0, s.memoryStats().inUseBytes(), backend + ": closing the tensors frees everything");
            }
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseIsChecked() {
        Session s = cpu();
        SparseTensor t = SparseTensor.of(s, new int[] {0, 0, 0, 0}, new float[] {1}, 1, DType.F32, 1, 1, 1);
        Tensor coordinates = t.coordinates();
        t.close();
        t.close();
        assertTrue(t.isClosed());
        assertTrue(coordinates.isClosed());
        assertEquals(0, s.memoryStats().inUseBytes());
        assertEquals(ErrorCode.CLOSED, assertThrows(ResourceClosedException.class, t::features).code());
        assertThrows(ResourceClosedException.class, t::coordinates);
        assertEquals(1, t.size(), "metadata stays readable");

        SparseTensor owned = SparseTensor.of(s, new int[] {0, 0, 0, 0}, new float[] {1}, 1, DType.F32, 1, 1, 1);
        s.close();
        assertTrue(owned.isClosed(), "the session owns the tensors");
        assertThrows(ResourceClosedException.class, owned::coordinates);
        owned.close();
        assertThrows(ResourceClosedException.class,
                () -> SparseTensor.of(s, new int[] {0, 0, 0, 0}, new float[] {1}, 1, DType.F32, 1, 1, 1));
    }

    @Test
    void deviceTensorsAreCheckedBeforeTheyAreWrapped() {
        try (Session s = cpu(); Session other = cpu()) {
            Tensor coordinates = s.fromInts(new int[] {0, 1, 1, 1, 0, 1, 1, 1}, 2, 4);
            Tensor features = s.fromFloats(new float[] {1, 2}, DType.F32, 2, 1);
            var duplicate = assertThrows(InvalidInputException.class,
                    () -> SparseTensor.fromTensors(coordinates, features, 1, 1, 1));
            assertTrue(duplicate.getMessage().contains("row 1 repeats"), duplicate.getMessage());
            Tensor foreign = other.fromFloats(new float[] {1, 2}, DType.F32, 2, 1);
            assertThrows(InvalidInputException.class, () -> SparseTensor.fromTensors(coordinates, foreign, 1, 1, 1));
            Tensor flat = s.fromInts(new int[] {0, 1, 1, 1}, 4);
            assertEquals(ErrorCode.SHAPE_MISMATCH, assertThrows(InvalidInputException.class,
                    () -> SparseTensor.fromTensors(flat, features, 1, 1, 1)).code());
            Tensor good = s.fromInts(new int[] {0, 1, 1, 1, 0, 1, 1, 2}, 2, 4);
            try (SparseTensor t = SparseTensor.fromTensors(good, features, 1, 1, 1)) {
                assertEquals(2, t.size());
                assertFalse(t.isClosed());
            }
            assertTrue(good.isClosed(), "the sparse tensor took the tensors over");
        }
    }

    /**
     * A strided layer's output gets its coordinates from the keys the backend computed for the coarse set, with no
     * upload, equal to the host set's; and the backend's state for a set lives as long as a sparse tensor holds it.
     */
    @Test
    void aLayerOutputsCoordinatesComeFromTheBackendsKeysAndTheSetLivesWithItsTensors() {
        try (Session s = cpu()) {
            int[] coordinates = {0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 2, 1, 1, -1, -1, -1, 1, 5, 4, 3};
            float[] features = new float[5];
            java.util.Arrays.fill(features, 1f);
            SparseTensor x = SparseTensor.of(s, coordinates, features, 1, DType.F32);
            org.lacuna.runtime.sparseconv.CoordinateSet fine = x.coordinateSet();
            assertTrue(fine.isResident(), "the input's keys come up with it");
            var down = org.lacuna.api.layers.SparseConv3d.create(s,
                    org.lacuna.runtime.sparseconv.ConvGeometry.strided(2, 2), 1, 1, new float[8], null,
                    org.lacuna.api.layers.SparseConv3d.Options.of(DType.F32));
            SparseTensor y = down.forward(x);
            var before = s.backend().transferStats();
            int[] made = y.coordinates().toIntArray();
            assertEquals(1, s.backend().transferStats().since(before).copies(), "only the download of the result");
            assertArrayEquals(y.coordinateSet().coordinates(), made);
            org.lacuna.runtime.sparseconv.CoordinateSet coarse = y.coordinateSet();
            assertTrue(coarse.isResident());
            y.close();
            assertFalse(coarse.isResident(), "the last tensor on the coarse set freed its state");
            assertTrue(fine.isResident(), "x still holds the fine set");
            SparseTensor again = SparseTensor.onCoordinateSet(fine, s.fromFloats(features, DType.F32, 5, 1));
            x.close();
            assertTrue(fine.isResident(), "the second tensor on the fine set holds it");
            again.close();
            assertFalse(fine.isResident());
        }
    }
}

package org.lacuna.runtime.sparseconv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.cpu.CpuVoxelizer;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.ops.SparseConvolutionConformance;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.testing.TestData;

/** The structure of kernel maps, the cache, the statistics and the errors for bad coordinates. */
class KernelMapTest {
    @Test
    void submanifoldPairsAreSymmetricAndCentred() {
        CoordinateSet cloud = SparseConvolutionConformance.randomCloud(TestData.random("submanifold"), 1, 9, 0.3);
        KernelMap map = cloud.kernelMap(ConvGeometry.submanifold(3));
        int centre = 13;
        assertEquals(cloud.size(), map.pairCount(centre), "every point is its own centre neighbour");
        for (int v = 0; v < 27; v++) {
            assertEquals(map.pairCount(v), map.pairCount(26 - v), "offset " + v + " mirrors offset " + (26 - v));
        }
        for (int row = 0; row < cloud.size(); row++) {
            assertEquals(row, map.neighbour(row, centre));
            for (int v = 0; v < 27; v++) {
                int in = map.neighbour(row, v);
                if (in >= 0) {
                    assertEquals(row, map.neighbour(in, 26 - v), "row " + row + " offset " + v);
                }
                boolean bit = (map.mask(row, 0) >>> v & 1L) != 0;
                assertEquals(in >= 0, bit, "bitmask of row " + row + " offset " + v);
            }
        }
    }

    @Test
    void stridedOutputsAreTheInputsFlooredDeduplicatedAndSorted() {
        SplittableRandom random = TestData.random("strided");
        for (int[] ks : new int[][] {{2, 2}, {3, 2}, {3, 3}}) {
            CoordinateSet cloud = SparseConvolutionConformance.randomCloud(random, 2, 9, 0.3);
            KernelMap map = cloud.kernelMap(ConvGeometry.strided(ks[0], ks[1]));
            int s = 2 * ks[1];
            TreeSet<Long> expected = new TreeSet<>(CoordinateKey::compare);
            for (long key : cloud.keys()) {
                expected.add(CoordinateKey.pack(CoordinateKey.batch(key), Math.floorDiv(CoordinateKey.x(key), s) * s,
                        Math.floorDiv(CoordinateKey.y(key), s) * s, Math.floorDiv(CoordinateKey.z(key), s) * s));
            }
            assertArrayEquals(expected.stream().mapToLong(Long::longValue).toArray(), map.outputs().keys());
            assertEquals(Int3.cubic(s), map.outputs().tensorStride());
            if (ks[0] == 2 && ks[1] == 2) {
                assertEquals(cloud.size(), map.totalPairs(), "k2s2 reaches each input exactly once");
            }
        }
    }

    @Test
    void transposedMapsReverseTheDownsampling() {
        CoordinateSet cloud = SparseConvolutionConformance.randomCloud(TestData.random("transposed"), 1, 9, 0.3);
        KernelMap down = cloud.kernelMap(ConvGeometry.strided(3, 2));
        KernelMap up = down.outputs().kernelMap(ConvGeometry.transposed(3, 2));
        assertEquals(cloud, up.outputs());
        for (int v = 0; v < 27; v++) {
            assertEquals(down.pairCount(v), up.pairCount(v));
            for (long p = down.pairStart(v); p < down.pairStart(v + 1); p++) {
                assertEquals(down.pairOutput(p), up.neighbour(down.pairInput(p), v));
            }
        }
        InvalidInputException notFromThat = assertThrows(InvalidInputException.class,
                () -> down.outputs().kernelMap(ConvGeometry.transposed(2, 2)));
        assertTrue(notFromThat.getMessage().contains("came from"), notFromThat.getMessage());
        assertThrows(InvalidInputException.class, () -> cloud.kernelMap(ConvGeometry.transposed(3, 2)));
    }

    @Test
    void largeKernelVolumesUseSeveralMaskWords() {
        CoordinateSet cloud = SparseConvolutionConformance.randomCloud(TestData.random("volume"), 1, 8, 0.4);
        KernelMap map = cloud.kernelMap(ConvGeometry.submanifold(5));
        assertEquals(125, map.volume());
        assertEquals(2, map.maskWords());
        assertEquals(cloud.size(), map.pairCount(62));
        assertEquals(map.totalPairs(), bitCount(map), "one bit per pair, across both words");
        KernelMap seven = cloud.kernelMap(ConvGeometry.submanifold(Int3.of(7, 7, 5), Int3.cubic(1)));
        assertEquals(245, seven.volume());
        assertEquals(seven.totalPairs(), bitCount(seven));
    }

    @Test
    void neighboursBeyondTheKeyRangeDoNotExist() {
        int max = CoordinateKey.MAX_COORDINATE;
        int min = CoordinateKey.MIN_COORDINATE;
        CoordinateSet edge = CoordinateSet.of(new int[] {0, max, max, max, 0, min, min, min, 0, max - 1, max, max},
                new int[] {1, 1, 1});
        KernelMap map = edge.kernelMap(ConvGeometry.submanifold(3));
        assertEquals(3 + 2, map.totalPairs(), "the corners see themselves, the two near ones see each other");
        InvalidInputException floored = assertThrows(InvalidInputException.class,
                () -> edge.kernelMap(ConvGeometry.strided(3, 3)));
        assertTrue(floored.getMessage().contains("outside the representable range"), floored.getMessage());
    }

    @Test
    void aNeighbourTableOfTheWrongSizeIsAClearError() {
        CoordinateSet cloud = CoordinateSet.of(new int[] {0, 0, 0, 0, 0, 1, 0, 0}, new int[] {1, 1, 1});
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> KernelMap.of(ConvGeometry.submanifold(3), cloud, cloud, new int[27]));
        assertEquals("KernelMap.of", e.call());
        assertTrue(e.getMessage().contains("27 neighbour entries for 2 outputs"), e.getMessage());
    }

    @Test
    void statisticsCountWorkAsTheImplicitGemmDoes() {
        CoordinateSet cloud = SparseConvolutionConformance.randomCloud(TestData.random("statistics"), 1, 12, 0.2);
        MapStatistics s = cloud.kernelMap(ConvGeometry.submanifold(3)).statistics();
        long sum = 0;
        for (long p : s.pairsPerOffset()) {
            sum += p;
        }
        assertEquals(s.totalPairs(), sum);
        assertEquals((double) sum / cloud.size(), s.averageNeighbours(), 1e-12);
        assertEquals(1.0, s.redundancy(1, TileOrder.UNSORTED), 1e-12, "one-row tiles waste nothing");
        for (int tile : new int[] {16, 32, 64}) {
            double unsorted = s.redundancy(tile, TileOrder.UNSORTED);
            double sorted = s.redundancy(tile, TileOrder.SORTED);
            assertTrue(unsorted >= sorted && sorted >= 1.0, tile + ": " + unsorted + " / " + sorted);
            assertTrue(s.redundancy(tile, TileOrder.SORTED_SPLIT) >= 1.0);
            assertTrue(unsorted <= 27 / s.averageNeighbours() + 1e-9, "never more than every offset everywhere");
        }
        int[] order = s.sortedRows(0, 27);
        assertEquals(cloud.size(), java.util.Arrays.stream(order).distinct().count(), "a permutation");
    }

    @Test
    void theLaunchPlanCoversEveryRowPerGroupAndEveryNonEmptyOffsetOnce() {
        CoordinateSet cloud = SparseConvolutionConformance.randomCloud(TestData.random("launchPlan"), 1, 10, 0.15);
        KernelMap map = cloud.kernelMap(ConvGeometry.submanifold(5));
        MapStatistics s = map.statistics();
        assertArrayEquals(new int[] {0, 125}, MapStatistics.offsetGroupBounds(125, TileOrder.SORTED));
        assertArrayEquals(new int[] {0, 62, 125}, MapStatistics.offsetGroupBounds(125, TileOrder.SORTED_SPLIT));
        assertArrayEquals(new int[] {0, 1}, MapStatistics.offsetGroupBounds(1, TileOrder.SORTED_SPLIT));
        int[] unsorted = s.tileRows(TileOrder.UNSORTED, 0, 125);
        for (int r = 0; r < unsorted.length; r++) {
            assertEquals(r, unsorted[r], "unsorted is coordinate order");
        }
        assertArrayEquals(s.sortedRows(62, 125), s.tileRows(TileOrder.SORTED_SPLIT, 62, 125));
        TreeSet<Integer> seen = new TreeSet<>();
        for (int[] group : s.scatterGroups()) {
            for (int v : group) {
                assertTrue(seen.add(v), "offset " + v + " in two groups");
                assertTrue(map.pairCount(v) > 0 && map.pairCount(v) <= map.pairCount(group[0])
                        && 2 * map.pairCount(v) >= map.pairCount(group[0]), "offset " + v + " in its group");
            }
        }
        for (int v = 0; v < 125; v++) {
            assertEquals(map.pairCount(v) > 0, seen.contains(v), "offset " + v);
        }
    }

    @Test
    void theRulePicksTheImplicitGemmForDenseMapsAndTheScatterForScatteredOnes() {
        SplittableRandom random = TestData.random("dataflowRule");
        CoordinateSet dense = SparseConvolutionConformance.randomCloud(random, 1, 14, 0.9);
        assertEquals(Dataflow.IMPLICIT_GEMM, Dataflow.choose(dense.kernelMap(ConvGeometry.submanifold(3)).statistics()));
        CoordinateSet thin = SparseConvolutionConformance.randomCloud(random, 1, 24, 0.03);
        MapStatistics s = thin.kernelMap(ConvGeometry.submanifold(5)).statistics();
        assertTrue(s.redundancy(64, TileOrder.SORTED) > Dataflow.IMPLICIT_GEMM_MAX_REDUNDANCY, s.toString());
        assertEquals(Dataflow.GATHER_GEMM_SCATTER, Dataflow.choose(s));
    }

    @Test
    void badCoordinatesAreClearErrors() {
        InvalidInputException empty = assertThrows(InvalidInputException.class,
                () -> CoordinateSet.of(new int[0], new int[] {1, 1, 1}));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
        InvalidInputException duplicate = assertThrows(InvalidInputException.class,
                () -> CoordinateSet.of(new int[] {0, 1, 2, 3, 0, 4, 4, 4, 0, 1, 2, 3}, new int[] {1, 1, 1}));
        assertTrue(duplicate.getMessage().contains("duplicate"), duplicate.getMessage());
        InvalidInputException range = assertThrows(InvalidInputException.class,
                () -> CoordinateSet.of(new int[] {0, 40_000, 0, 0}, new int[] {1, 1, 1}));
        assertTrue(range.getMessage().contains("representable range"), range.getMessage());
        assertThrows(InvalidInputException.class, () -> CoordinateSet.of(new int[] {0, 1, 0, 0}, new int[] {2, 2, 2}));
        assertThrows(InvalidInputException.class, () -> CoordinateSet.ofKeys(new long[] {CoordinateKey.EMPTY},
                new int[] {1, 1, 1}));
        InvalidInputException even = assertThrows(InvalidInputException.class, () -> ConvGeometry.submanifold(2));
        assertTrue(even.getMessage().contains("odd"), even.getMessage());
        InvalidInputException nan = assertThrows(InvalidInputException.class, () -> new CpuVoxelizer().voxelize(
                PointCloud.of(new float[] {0f, Float.NaN}, new float[] {0f, 0f}, new float[] {0f, 0f}),
                Voxelization.cubic(0.05, VoxelReduction.MEAN)));
        assertTrue(nan.getMessage().toLowerCase(java.util.Locale.ROOT).contains("nan"), nan.getMessage());
        assertThrows(InvalidInputException.class, () -> new CpuVoxelizer().voxelize(
                PointCloud.of(new float[] {Float.POSITIVE_INFINITY}, new float[] {0f}, new float[] {0f}),
                Voxelization.cubic(0.05, VoxelReduction.MEAN)));
    }

    @Test
    void theIndexComparesFullKeys() {
        // Keys that agree in every low bit and differ only in the batch: a hash of a truncated key would merge them.
        long[] keys = new long[4096];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = CoordinateKey.pack(i % 64, i / 64, 7, -7);
        }
        CoordinateIndex index = new CoordinateIndex(keys);
        assertEquals(8192, index.capacity());
        for (int i = 0; i < keys.length; i++) {
            assertEquals(i, index.find(keys[i]));
        }
        assertEquals(-1, index.find(CoordinateKey.pack(64, 0, 7, -7)));
        assertEquals(-1, index.find(CoordinateKey.pack(0, 0, 7, -6)));
        assertEquals(16, CoordinateIndex.capacityFor(1));
        assertEquals(1L << 32, CoordinateIndex.capacityFor((1L << 31) - 5), "long arithmetic past 2^31");
    }

    private static long bitCount(KernelMap map) {
        long bits = 0;
        for (long word : map.masks()) {
            bits += Long.bitCount(word);
        }
        return bits;
    }
}

package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;

/**
 * Voxelisation checked against grouping points in a LinkedHashMap keyed by (batch, voxel x, y, z). Coordinates are
 * drawn from a small range, with repeats, so that voxels hold many points and exact duplicates.
 */
class VoxelizerPropertiesTest {
    record Case(PointCloud cloud, Voxelization voxelization, boolean parallel) {
        @Override
        public String toString() {
            return cloud + " " + voxelization + (parallel ? " parallel" : "");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Float> coordinate = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.floats().between(-3f, 3f)),
                Tuple.of(2, Arbitraries.of(0f, -0f, 0.5f, -0.5f, 1f, -1e-7f)),
                Tuple.of(1, Arbitraries.floats().between(-400f, 400f)));
        Arbitrary<Integer> channelCount = Arbitraries.integers().between(0, 2);
        Arbitrary<Voxelization> voxelization = Combinators.combine(
                Arbitraries.of(0.05, 0.1, 0.25, 0.3, 1.0, 2.5),
                Arbitraries.of(0.05, 0.1, 0.25, 1.0),
                Arbitraries.of(0.1, 0.2, 1.0),
                Arbitraries.of(VoxelReduction.values())).as(Voxelization::new);
        return Combinators.combine(channelCount, Arbitraries.integers().between(1, 3), voxelization,
                        Arbitraries.of(false, true))
                .flatAs((channels, samples, vox, parallel) -> sample(coordinate, channels).list().ofSize(samples)
                        .map(list -> new Case(PointCloud.batchOf(list), vox, parallel)));
    }

    private static Arbitrary<PointCloud> sample(Arbitrary<Float> coordinate, int channels) {
        return Arbitraries.integers().between(1, 300).flatMap(n -> {
            Arbitrary<float[]> column = coordinate.array(float[].class).ofSize(n);
            return column.list().ofSize(3 + channels).map(columns -> {
                List<String> names = new ArrayList<>();
                float[][] extra = new float[channels][];
                for (int c = 0; c < channels; c++) {
                    names.add("c" + c);
                    extra[c] = columns.get(3 + c);
                }
                return PointCloud.of(columns.get(0), columns.get(1), columns.get(2), names, extra);
            });
        });
    }

    private static CpuVoxelizer voxelizer(Case c) {
        return c.parallel() ? new CpuVoxelizer(CpuVoxelizerTest.THREADS, 0) : CpuVoxelizer.sequential();
    }

    /** Point indices per voxel key, in input order, built without the voxeliser's sort. */
    private static Map<Long, List<Integer>> grouped(Case c) {
        Map<Long, List<Integer>> groups = new LinkedHashMap<>();
        PointCloud cloud = c.cloud();
        Voxelization v = c.voxelization();
        for (int i = 0; i < cloud.size(); i++) {
            long key = CoordinateKey.pack(cloud.batchIndex(i),
                    (int) Math.floor((double) cloud.x(i) / v.sizeX()),
                    (int) Math.floor((double) cloud.y(i) / v.sizeY()),
                    (int) Math.floor((double) cloud.z(i) / v.sizeZ()));
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
        }
        return groups;
    }

    @Property(tries = 200)
    void everyPointLandsInExactlyOneVoxelThatContainsIt(@ForAll("cases") Case c) {
        VoxelizedCloud voxels = voxelizer(c).voxelize(c.cloud(), c.voxelization());
        PointCloud cloud = c.cloud();
        int[] pointToVoxel = voxels.pointToVoxel();
        int[] coordinates = voxels.coordinates();
        assertEquals(cloud.size(), pointToVoxel.length);
        for (int i = 0; i < cloud.size(); i++) {
            int v = pointToVoxel[i];
            assertEquals(cloud.batchIndex(i), coordinates[4 * v]);
            assertTrue(contains(coordinates[4 * v + 1], cloud.x(i), c.voxelization().sizeX()), "x of point " + i);
            assertTrue(contains(coordinates[4 * v + 2], cloud.y(i), c.voxelization().sizeY()), "y of point " + i);
            assertTrue(contains(coordinates[4 * v + 3], cloud.z(i), c.voxelization().sizeZ()), "z of point " + i);
        }
        long[] keys = voxels.keys();
        for (int v = 1; v < keys.length; v++) {
            assertTrue(CoordinateKey.compare(keys[v - 1], keys[v]) < 0, "keys sorted and distinct");
        }
    }

    /** Voxel cell of edge {@code size} contains {@code p}: cell * size <= p < (cell + 1) * size, in double. */
    private static boolean contains(int cell, float p, double size) {
        double q = (double) p / size;
        return cell <= q && q < cell + 1.0;
    }

    @Property(tries = 200)
    void countsMatchAHashMapCount(@ForAll("cases") Case c) {
        VoxelizedCloud voxels = voxelizer(c).voxelize(c.cloud(), c.voxelization());
        Map<Long, List<Integer>> groups = grouped(c);
        assertEquals(groups.size(), voxels.voxelCount());
        long[] keys = voxels.keys();
        int[] counts = voxels.pointCounts();
        for (int v = 0; v < keys.length; v++) {
            assertEquals(groups.get(keys[v]).size(), counts[v], "voxel " + CoordinateKey.describe(keys[v]));
        }
    }

    @Property(tries = 200)
    void reductionMatchesItsDefinition(@ForAll("cases") Case c) {
        VoxelizedCloud voxels = voxelizer(c).voxelize(c.cloud(), c.voxelization());
        Map<Long, List<Integer>> groups = grouped(c);
        PointCloud cloud = c.cloud();
        int channels = cloud.channelCount();
        float[] positions = voxels.positions();
        float[] reducedChannels = voxels.channels();
        long[] keys = voxels.keys();
        for (int v = 0; v < keys.length; v++) {
            List<Integer> points = groups.get(keys[v]);
            float[] expected = new float[3 + channels];
            if (c.voxelization().reduction() == VoxelReduction.FIRST) {
                int first = points.getFirst();
                expected[0] = cloud.x(first);
                expected[1] = cloud.y(first);
                expected[2] = cloud.z(first);
                for (int k = 0; k < channels; k++) {
                    expected[3 + k] = cloud.channelValue(k, first);
                }
            } else {
                double[] sums = new double[3 + channels];
                for (int p : points) {
                    sums[0] += cloud.x(p);
                    sums[1] += cloud.y(p);
                    sums[2] += cloud.z(p);
                    for (int k = 0; k < channels; k++) {
                        sums[3 + k] += cloud.channelValue(k, p);
                    }
                }
                for (int k = 0; k < sums.length; k++) {
                    expected[k] = (float) (sums[k] / points.size());
                }
            }
            float[] actual = new float[3 + channels];
            System.arraycopy(positions, 3 * v, actual, 0, 3);
            System.arraycopy(reducedChannels, channels * v, actual, 3, channels);
            assertArrayEquals(expected, actual, "voxel " + CoordinateKey.describe(keys[v]));
        }
    }
}

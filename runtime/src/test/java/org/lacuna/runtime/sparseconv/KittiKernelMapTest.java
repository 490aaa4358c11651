package org.lacuna.runtime.sparseconv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Kernel-map statistics of the real KITTI sweep ({@code ../shared/data}, skipped where absent): the figures that
 * decide between the dataflows, printed for the record and held to the ranges the issue expects.
 */
class KittiKernelMapTest {
    @Test
    void submanifoldStatisticsAtFiveCentimetres() {
        CoordinateSet cloud = KittiSweep.voxels(0.05);
        assertEquals(86_068, cloud.size());
        long start = System.nanoTime();
        KernelMap map = cloud.kernelMap(ConvGeometry.submanifold(3));
        long built = System.nanoTime() - start;
        MapStatistics s = map.statistics();
        System.out.printf("KITTI 5 cm, 3x3x3 submanifold: %,d voxels, %,d pairs, %.3f neighbours/row, map in %.1f ms%n",
                cloud.size(), s.totalPairs(), s.averageNeighbours(), built / 1e6);
        System.out.println("  pairs per offset: " + java.util.Arrays.toString(s.pairsPerOffset()));
        for (int tile : new int[] {16, 32, 64, 128}) {
            System.out.printf("  redundancy, %d-row tiles: unsorted %.2f, sorted %.2f, sorted+split %.2f%n", tile,
                    s.redundancy(tile, TileOrder.UNSORTED), s.redundancy(tile, TileOrder.SORTED),
                    s.redundancy(tile, TileOrder.SORTED_SPLIT));
        }
        System.out.println("  dataflow rule picks " + Dataflow.choose(s));
        assertEquals(cloud.size(), s.pairsPerOffset()[13]);
        double unsorted = s.redundancy(64, TileOrder.UNSORTED);
        double sorted = s.redundancy(64, TileOrder.SORTED);
        double split = s.redundancy(64, TileOrder.SORTED_SPLIT);
        assertTrue(unsorted > sorted && sorted > split && split >= 1.0, unsorted + " > " + sorted + " > " + split);
    }

    @Test
    void largerKernelsAndDownsamplingOnTheSweep() {
        CoordinateSet cloud = KittiSweep.voxels(0.05);
        for (ConvGeometry geometry : java.util.List.of(ConvGeometry.submanifold(5), ConvGeometry.strided(2, 2),
                ConvGeometry.strided(3, 2))) {
            long start = System.nanoTime();
            KernelMap map = cloud.kernelMap(geometry);
            long built = System.nanoTime() - start;
            MapStatistics s = map.statistics();
            System.out.printf("KITTI 5 cm, %s: %,d -> %,d rows, %,d pairs, %.3f neighbours/row, map in %.1f ms, "
                            + "redundancy@64 unsorted %.2f sorted %.2f sorted+split %.2f, rule: %s%n", geometry,
                    map.inputCount(), map.outputCount(), s.totalPairs(), s.averageNeighbours(), built / 1e6,
                    s.redundancy(64, TileOrder.UNSORTED), s.redundancy(64, TileOrder.SORTED),
                    s.redundancy(64, TileOrder.SORTED_SPLIT), Dataflow.choose(s));
            if (geometry.isSubmanifold()) {
                assertEquals(cloud.size(), s.pairsPerOffset()[geometry.volume() / 2], "the centre offset");
            } else if (geometry.kernelSize().x() == 2) {
                assertEquals(cloud.size(), s.totalPairs(), "k2s2 reaches every input exactly once");
            } else {
                assertTrue(s.totalPairs() > cloud.size(), "k3s2 windows overlap");
            }
        }
        KernelMap down = cloud.kernelMap(ConvGeometry.strided(2, 2));
        KernelMap up = down.outputs().kernelMap(ConvGeometry.transposed(2, 2));
        assertEquals(down.totalPairs(), up.totalPairs());
        assertEquals(cloud.size(), up.outputCount());
    }
}

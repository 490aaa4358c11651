package org.lacuna.runtime.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.ops.SparseConvolutionConformance;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.testing.TestData;

/**
 * The gather-scatter's launch groups ({@link org.lacuna.runtime.sparseconv.MapStatistics#scatterGroups}), cut on the
 * host from the host map's pair counts, must be contiguous runs of the
 * order the device sorts on its own ({@code coord_offset_order_keys} + the radix sort: descending pair
 * count, ties by offset, emulated against that rule): each launch reads its offsets from that resident order at the
 * group's start instead of an upload. Host code only: runs without a GPU.
 */
class OffsetGroupsTest {
    @Test
    void groupsAreConsecutiveRunsOfTheOffsetsByDescendingPairCount() {
        SplittableRandom random = TestData.random("offsetGroups");
        for (ConvGeometry geometry : List.of(ConvGeometry.submanifold(3), ConvGeometry.submanifold(5),
                ConvGeometry.strided(2, 2), ConvGeometry.strided(3, 2))) {
            KernelMap map = SparseConvolutionConformance.randomCloud(random, 1, 9, 0.3).kernelMap(geometry);
            int[] deviceOrder = IntStream.range(0, map.volume()).boxed()
                    .sorted(Comparator.comparingLong((Integer v) -> -map.pairCount(v)).thenComparingInt(v -> v))
                    .mapToInt(Integer::intValue).toArray();
            int[] grouped = map.statistics().scatterGroups().stream().flatMapToInt(IntStream::of).toArray();
            int nonEmpty = (int) IntStream.range(0, map.volume()).filter(v -> map.pairCount(v) > 0).count();
            assertArrayEquals(java.util.Arrays.copyOf(deviceOrder, nonEmpty), grouped, geometry.toString());
            assertTrue(nonEmpty > 0, geometry + ": the cloud has pairs");
        }
    }
}

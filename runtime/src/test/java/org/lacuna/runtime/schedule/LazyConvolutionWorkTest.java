package org.lacuna.runtime.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapStatistics;
import org.lacuna.runtime.sparseconv.TileOrder;

/**
 * A GPU's convolution candidates estimate their work (which sorts the map's rows for the implicit GEMM's tile
 * redundancy) only when the scheduler first decides their signature: offering them again for another map of a
 * decided bucket sorts nothing.
 */
class LazyConvolutionWorkTest {
    private static final int TILE = MapStatistics.IMPLICIT_GEMM_TILE_ROWS;

    @Test
    void candidatesForADecidedSignatureEstimateNothing() {
        Scheduler scheduler = new Scheduler(TestTables.GPU, TestTables.gpu(), TuningStore.inMemory(),
                Policy.predictedOnly(), new TestTables.ScriptedClock()::timer);
        OpPaths gpu = new SchedulerChoiceTest.ConvolutionPathsOnly();
        CoordinateSet cloud = SchedulerChoiceTest.randomCloud(24, 0.15, 21);
        KernelMap first = cloud.kernelMap(ConvGeometry.submanifold(3));
        KernelMap second = shifted(cloud, 6).kernelMap(ConvGeometry.submanifold(3));
        ConvolutionStatistics a = new ConvolutionStatistics(first, 32, 32, DType.F16);
        ConvolutionStatistics b = new ConvolutionStatistics(second, 32, 32, DType.F16);
        assertEquals(a.signature(), b.signature(), "a translated cloud falls in the same bucket");

        List<Candidate> offered = ConvolutionCandidates.of("cuda", null, gpu, a, null);
        assertTrue(offered.stream().noneMatch(Candidate::workKnown), "made without estimating");
        assertFalse(first.statistics().knowsRedundancy(TILE, TileOrder.SORTED), "and without sorting");
        Decision decided = scheduler.decide("conv", a, offered);
        assertTrue(offered.stream().allMatch(Candidate::workKnown), "the first decision predicts every candidate");
        assertTrue(first.statistics().knowsRedundancy(TILE, TileOrder.SORTED));

        List<Candidate> again = ConvolutionCandidates.of("cuda", null, gpu, b, null);
        assertSame(decided, scheduler.decide("conv", b, again), "one decision per bucket");
        assertTrue(again.stream().noneMatch(Candidate::workKnown), "a decided bucket predicts nothing");
        for (TileOrder order : TileOrder.values()) {
            assertFalse(second.statistics().knowsRedundancy(TILE, order), "the second map was not sorted: " + order);
        }
        // Asked for, the deferred estimate is the eager one.
        for (Candidate c : again) {
            assertEquals(ConvolutionCandidates.work(c.name(), b), c.work(), c.name());
        }
    }

    @Test
    void aBoundCandidateSharesItsEstimate() {
        int[] estimates = {0};
        Candidate lazy = Candidate.lazy("p", "cuda.p", () -> {
            estimates[0]++;
            return new Work(10, 20, 1);
        }, true, null);
        Candidate bound = lazy.bound(() -> { });
        assertEquals(new Work(10, 20, 1), bound.work());
        assertEquals(new Work(10, 20, 1), lazy.work());
        assertEquals(1, estimates[0], "estimated once for the candidate and its bindings");
        assertTrue(bound.runnable());
    }

    /** {@code set} moved by {@code by} on every axis: other coordinates, the same neighbourhoods. */
    private static CoordinateSet shifted(CoordinateSet set, int by) {
        int[] coordinates = set.coordinates();
        for (int row = 0; row < coordinates.length / 4; row++) {
            for (int a = 1; a < 4; a++) {
                coordinates[4 * row + a] += by;
            }
        }
        return CoordinateSet.of(coordinates, new int[] {1, 1, 1});
    }
}

package org.lacuna.runtime.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapStatistics;

/** The choice moves the way it should as the statistics move, under deterministic efficiency tables. */
class SchedulerChoiceTest {
    private static Scheduler predicting(DeviceKey device, EfficiencyTable table) {
        TestTables.ScriptedClock clock = new TestTables.ScriptedClock();
        return new Scheduler(device, table, TuningStore.inMemory(), Policy.predictedOnly(), clock::timer);
    }

    /** The GPU's linear candidates for a 2:4 weight (as the CUDA backend offers them: one dense path, mma.sp). */
    private static List<Candidate> gpuLinear(LinearStatistics s) {
        return List.of(LinearCandidates.predicted("cuda", "dense", s, DType.F16),
                LinearCandidates.predicted("cuda", "mma.sp", s, DType.F16));
    }

    @Test
    void twoFourWinsAtManyTokensAndLosesAtOne() {
        Scheduler scheduler = predicting(TestTables.GPU, TestTables.gpu());
        LinearStatistics weight = new LinearStatistics(1, 768, 3072, DType.F16, 0.5, 1.0, 1.0);
        List<String> chosen = new ArrayList<>();
        for (long tokens : new long[] {1, 8, 64, 512, 4096}) {
            LinearStatistics s = weight.withTokens(tokens);
            chosen.add(scheduler.decide("fc1", s, gpuLinear(s)).chosen());
        }
        assertEquals("dense", chosen.get(0), "one token: a single row of 2:4 blocks cannot fill the GPU " + chosen);
        assertEquals("mma.sp", chosen.get(4), "4096 tokens: half the products win " + chosen);
        // The break-even lies somewhere in between, and the choice does not flip back above it.
        int first = chosen.indexOf("mma.sp");
        assertTrue(first > 0 && chosen.subList(first, chosen.size()).stream().allMatch("mma.sp"::equals), chosen::toString);
    }

    @Test
    void csrWinsOnlyAtVeryLowDensity() {
        Scheduler scheduler = predicting(TestTables.CPU, TestTables.cpu());
        List<String> chosen = new ArrayList<>();
        for (double density : new double[] {0.01, 0.02, 0.05, 0.1, 0.3, 0.6}) {
            LinearStatistics s = new LinearStatistics(512, 768, 3072, DType.F16, density, 0.2, 0.9);
            List<Candidate> candidates = List.of(LinearCandidates.predicted("cpu", "blas-dense", s, DType.F16),
                    LinearCandidates.predicted("cpu", "vector-dense", s, DType.F16),
                    LinearCandidates.predicted("cpu", "csr", s, DType.F16));
            chosen.add(scheduler.decide("w", s, candidates).chosen());
        }
        assertEquals("csr", chosen.get(0), chosen::toString);
        assertEquals("blas-dense", chosen.get(chosen.size() - 1), chosen::toString);
        assertEquals("blas-dense", chosen.get(4), "30% density is far from CSR's range " + chosen);
        int firstDense = chosen.indexOf("blas-dense");
        assertTrue(chosen.subList(firstDense, chosen.size()).stream().allMatch("blas-dense"::equals), chosen::toString);
    }

    @Test
    void aConvolutionSignatureIsWrittenAsTheFormatterWouldWriteIt() {
        for (KernelMap map : List.of(randomCloud(40, 0.08, 3).kernelMap(ConvGeometry.submanifold(3)),
                randomCloud(14, 1.0, 4).kernelMap(ConvGeometry.submanifold(3)))) {
            ConvolutionStatistics s = new ConvolutionStatistics(map, 64, 64, DType.F16);
            assertEquals(String.format(Locale.ROOT, "sparse-conv|%s|volume=%d|in<=%d|out<=%d|neighbours~%.1f",
                    DType.F16, s.volume(), LayerStatistics.sizeBucket(s.pointsIn()),
                    LayerStatistics.sizeBucket(s.pointsOut()), LayerStatistics.ratioBucket(s.averageNeighbours(),
                            0.5)), s.signature());
        }
    }

    @Test
    void sortedImplicitGemmWinsAtLowNeighbourCounts() {
        Scheduler scheduler = predicting(TestTables.GPU, TestTables.gpu());
        OpPaths gpuPaths = new ConvolutionPathsOnly();
        KernelMap sparse = randomCloud(40, 0.08, 3).kernelMap(ConvGeometry.submanifold(3));
        KernelMap dense = randomCloud(14, 1.0, 4).kernelMap(ConvGeometry.submanifold(3));
        ConvolutionStatistics thin = new ConvolutionStatistics(sparse, 64, 64, DType.F16);
        ConvolutionStatistics full = new ConvolutionStatistics(dense, 64, 64, DType.F16);
        assertTrue(thin.averageNeighbours() < 4 && full.averageNeighbours() > 20,
                thin.averageNeighbours() + " / " + full.averageNeighbours());
        Decision lowNeighbours = scheduler.decide("conv", thin, ConvolutionCandidates.of("cuda", null, gpuPaths, thin,
                null));
        Decision highNeighbours = scheduler.decide("conv", full, ConvolutionCandidates.of("cuda", null, gpuPaths, full,
                null));
        assertEquals(ConvolutionCandidates.IMPLICIT_SORTED, lowNeighbours.chosen(), lowNeighbours.toString());
        assertTrue(lowNeighbours.estimate(ConvolutionCandidates.IMPLICIT_UNSORTED).predictedMillis()
                > 1.5 * lowNeighbours.estimate(ConvolutionCandidates.IMPLICIT_SORTED).predictedMillis());
        // On a full grid every tile already needs nearly every offset: sorting buys under 10%, and the implicit
        // GEMM's exact-enough work beats the scatter's traffic.
        assertTrue(highNeighbours.chosen().startsWith("implicit-"), highNeighbours.toString());
        assertTrue(highNeighbours.estimate(ConvolutionCandidates.IMPLICIT_UNSORTED).predictedMillis()
                < 1.1 * highNeighbours.estimate(ConvolutionCandidates.IMPLICIT_SORTED).predictedMillis());
    }

    @Test
    void layersSharingAKernelMapShareTheDecision() {
        Scheduler scheduler = predicting(TestTables.GPU, TestTables.gpu());
        KernelMap map = randomCloud(30, 0.1, 5).kernelMap(ConvGeometry.submanifold(3));
        ConvolutionStatistics a = new ConvolutionStatistics(map, 32, 32, DType.F16);
        ConvolutionStatistics b = new ConvolutionStatistics(map, 32, 64, DType.F16);
        OpPaths paths = new ConvolutionPathsOnly();
        Decision first = scheduler.decide("conv1", a, ConvolutionCandidates.of("cuda", null, paths, a, null));
        Decision second = scheduler.decide("conv2", b, ConvolutionCandidates.of("cuda", null, paths, b, null));
        assertTrue(first == second, "one decision object for the shared map");
        assertEquals(2, scheduler.plan().entries().size(), "both layers appear in the plan");
    }

    /** On the CPU (one dataflow) a decision never sorts the map for its tile redundancies; an explanation does. */
    @Test
    void aConvolutionThatOnlyRunsNeverPaysForTheStatisticsItsExplanationShows() {
        Scheduler scheduler = predicting(TestTables.CPU, TestTables.cpu());
        KernelMap map = randomCloud(30, 0.1, 6).kernelMap(ConvGeometry.submanifold(3));
        ConvolutionStatistics s = new ConvolutionStatistics(map, 16, 16, DType.F32);
        Decision d = scheduler.decide("stem.0", s, ConvolutionCandidates.of("cpu", null, null, s, null));
        scheduler.plan();
        var sorted = org.lacuna.runtime.sparseconv.TileOrder.SORTED;
        assertTrue(!map.statistics().knowsRedundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, sorted),
                "deciding and planning sorted nothing");
        assertTrue(scheduler.plan().explain().contains("redundancySorted="));
        assertTrue(map.statistics().knowsRedundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, sorted));
        assertEquals(map.statistics().redundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, sorted),
                (Double) d.statistics().get("redundancySorted"));
    }

    /**
     * A scheduler keeps its decisions as long as it lives, but not the data they were made from: once a map's
     * coordinates are unreachable, the map is collected; its decision still describes the counts, and the
     * redundancies nobody asked for read "not computed".
     */
    @Test
    void aDecisionDoesNotKeepItsKernelMapAlive() throws InterruptedException {
        Scheduler scheduler = predicting(TestTables.CPU, TestTables.cpu());
        java.lang.ref.WeakReference<KernelMap> map = decideOnAFreshMap(scheduler);
        assertTrue(collected(map), "the decision keeps its kernel map (and its coordinate sets) alive");
        Decision d = scheduler.plan().entries().get(0).decision();
        assertEquals(27, ((Number) d.statistics().get("volume")).intValue());
        assertEquals(DescribedStatistics.NOT_COMPUTED, d.statistics().get("redundancySorted"));
        assertTrue(scheduler.plan().explain().contains("redundancySorted=not computed"));
    }

    /** Decides on a map only this method refers to. */
    private static java.lang.ref.WeakReference<KernelMap> decideOnAFreshMap(Scheduler scheduler) {
        KernelMap map = randomCloud(12, 0.2, 8).kernelMap(ConvGeometry.submanifold(3));
        ConvolutionStatistics s = new ConvolutionStatistics(map, 8, 8, DType.F32);
        scheduler.decide("stem.0", s, ConvolutionCandidates.of("cpu", null, null, s, null));
        return new java.lang.ref.WeakReference<>(map);
    }

    /** Whether {@code ref} clears within a bounded number of collections. */
    static boolean collected(java.lang.ref.WeakReference<?> ref) throws InterruptedException {
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        return ref.get() == null;
    }

    /** A layer asking for a candidate its backend does not offer gets a Lacuna error naming the call. */
    @Test
    void aCandidateTheBackendDoesNotOfferIsAClearError() {
        var forms = new LinearCandidates.Forms(null, null, null, null, org.lacuna.runtime.ops.Activation.NONE,
                DType.F32);
        var linear = assertThrows(org.lacuna.runtime.error.NotSupportedException.class,
                () -> LinearCandidates.offers("cpu", null, new LinearStatistics(8, 64, 64, DType.F32, 1.0, 0.0, 1.0),
                        forms, null, null).call("csr"));
        assertEquals("LinearCandidates.call", linear.call());
        var conv = assertThrows(org.lacuna.runtime.error.NotSupportedException.class,
                () -> ConvolutionCandidates.call("cuda", null, new ConvolutionPathsOnly(), "implicit-diagonal"));
        assertEquals("ConvolutionCandidates.call", conv.call());
        assertTrue(conv.getMessage().contains("implicit-diagonal"), conv.getMessage());
    }

    /** A GPU-like backend's convolution paths, for predictions only. */
    static final class ConvolutionPathsOnly implements OpPaths {
        @Override
        public List<String> denseLinearPaths() {
            return List.of();
        }

        @Override
        public void linearDense(String path, org.lacuna.runtime.data.DeviceArray x, org.lacuna.runtime.data.DeviceArray w,
                                org.lacuna.runtime.data.DeviceArray bias, org.lacuna.runtime.ops.Activation activation,
                                org.lacuna.runtime.data.DeviceArray y) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<String> convolutionPaths() {
            return List.of(ConvolutionCandidates.GATHER_SCATTER, ConvolutionCandidates.IMPLICIT_UNSORTED,
                    ConvolutionCandidates.IMPLICIT_SORTED, ConvolutionCandidates.IMPLICIT_SPLIT);
        }
    }

    /** Voxels of a {@code side}³ grid, each present with probability {@code occupancy}. */
    static CoordinateSet randomCloud(int side, double occupancy, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Integer> coords = new ArrayList<>();
        for (int x = 0; x < side; x++) {
            for (int y = 0; y < side; y++) {
                for (int z = 0; z < side; z++) {
                    if (random.nextDouble() < occupancy) {
                        coords.addAll(List.of(0, x, y, z));
                    }
                }
            }
        }
        return CoordinateSet.of(coords.stream().mapToInt(Integer::intValue).toArray(), new int[] {1, 1, 1});
    }
}

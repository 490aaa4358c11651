package org.lacuna.runtime.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;

/**
 * {@link OneDensePath} through the scheduler's live trials, with the deterministic CPU table and injected call times:
 * once every trial has decided, a dense winner whose trial measured the model's dense path (the least time summed over
 * the dense layers) within the margin takes that path, and only then; the revised choice is stored and shared;
 * {@code fastest-measured} keeps each layer's fastest.
 */
class OneDensePathTest {
    private static final List<String> DENSE = List.of("blas-dense", "vector-dense");

    private static Scheduler scheduler(Policy policy, TuningStore store) {
        TestTables.ScriptedClock clock = new TestTables.ScriptedClock();
        return new Scheduler(TestTables.CPU, TestTables.cpu(), store, policy, clock::timer);
    }

    /** A dense layer whose signature differs by its token bucket; BLAS and Vector predicted within the margin. */
    private static LinearStatistics dense(long tokens) {
        return new LinearStatistics(tokens, 768, 3072, DType.F16, 1.0, 0.0, 1.0);
    }

    private static LiveTrial open(Scheduler s, long tokens, String... layers) {
        LiveTrial trial = null;
        for (String layer : layers) {
            LiveTrial t = s.decideLive(layer, dense(tokens), LiveTrialTest.candidates(dense(tokens),
                    DENSE.toArray(String[]::new)));
            assertTrue(trial == null || trial == t, "the layers of a signature share its trial");
            trial = t;
        }
        assertNull(trial.decision(), "predictions within the margin: the live calls decide");
        return trial;
    }

    /**
     * Four signatures: Vector wins two (four layers) clearly, BLAS two (one layer each), one by 5% and one by 2.5x
     * (beyond the 100% margin). Every trial is open before the first decides, as in a model's first forward.
     */
    private static List<LiveTrial> decideFour(Scheduler s) {
        LiveTrial a = open(s, 512, "l0.qkv", "l1.qkv");
        LiveTrial b = open(s, 1024, "l0.up", "l1.up");
        LiveTrial close = open(s, 2048, "l0.down");
        LiveTrial far = open(s, 4096, "l0.out");
        LiveTrialTest.serveUntilDecided(a, "l0.qkv", Map.of("blas-dense", 9.0, "vector-dense", 7.0), 9);
        LiveTrialTest.serveUntilDecided(b, "l0.up", Map.of("blas-dense", 9.0, "vector-dense", 7.0), 9);
        LiveTrialTest.serveUntilDecided(close, "l0.down", Map.of("blas-dense", 1.0, "vector-dense", 1.05), 1);
        assertEquals("blas-dense", close.decision().chosen(), "a trial decides on its own calls first");
        assertEquals(1, s.deciding());
        LiveTrialTest.serveUntilDecided(far, "l0.out", Map.of("blas-dense", 1.0, "vector-dense", 2.5), 1);
        assertEquals(0, s.deciding());
        return List.of(a, b, close, far);
    }

    @Test
    void aDenseWinnerCloseToTheModelsDensePathTakesItOnceEveryTrialDecided() {
        TuningStore store = TuningStore.inMemory();
        Scheduler s = scheduler(Policy.auto(), store);
        List<LiveTrial> trials = decideFour(s);
        LiveTrial close = trials.get(2);
        LiveTrial far = trials.get(3);
        Decision moved = close.decision();
        assertEquals("vector-dense", moved.chosen(), moved.reason());
        assertEquals(Decision.Source.MEASURED, moved.source());
        assertTrue(moved.reason().contains("one dense path per model"), moved.reason());
        assertEquals(1.0, moved.estimate("blas-dense").measuredMillis(), "the measurements stay as they were");
        assertEquals(1.05, moved.estimate("vector-dense").measuredMillis());
        assertEquals("blas-dense", far.decision().chosen(), "2.5x ahead is beyond the margin: "
                + far.decision().reason());
        assertFalse(far.decision().reason().contains("one dense path"));
        assertEquals("vector-dense", trials.get(0).decision().chosen());

        // The plan shows the revised choice; a layer asking later shares the trial; a new scheduler reads the store.
        assertTrue(s.plan().entries().stream().filter(e -> e.layer().equals("l0.down"))
                .allMatch(e -> e.decision() == moved));
        LiveTrial later = s.decideLive("l1.down", dense(2048), LiveTrialTest.candidates(dense(2048),
                DENSE.toArray(String[]::new)));
        assertSame(close, later);
        Decision read = scheduler(Policy.auto(), store).decideLive("l0.down", dense(2048),
                LiveTrialTest.candidates(dense(2048), DENSE.toArray(String[]::new))).decision();
        assertEquals(Decision.Source.STORED, read.source());
        assertEquals("vector-dense", read.chosen());
    }

    @Test
    void fastestMeasuredKeepsEachLayersFastest() {
        Scheduler s = scheduler(Policy.fastestMeasured(), TuningStore.inMemory());
        List<LiveTrial> trials = decideFour(s);
        assertEquals("blas-dense", trials.get(2).decision().chosen(), trials.get(2).decision().reason());
        assertEquals("vector-dense", trials.get(0).decision().chosen());
    }

    @Test
    void nothingMovesWhileATrialIsStillDeciding() {
        Scheduler s = scheduler(Policy.auto(), TuningStore.inMemory());
        LiveTrial a = open(s, 512, "l0.qkv", "l1.qkv", "l2.qkv");
        LiveTrial close = open(s, 2048, "l0.down");
        LiveTrial pending = open(s, 4096, "l0.out");
        LiveTrialTest.serveUntilDecided(a, "l0.qkv", Map.of("blas-dense", 9.0, "vector-dense", 7.0), 9);
        LiveTrialTest.serveUntilDecided(close, "l0.down", Map.of("blas-dense", 1.0, "vector-dense", 1.05), 1);
        assertEquals("blas-dense", close.decision().chosen(), "another trial is still deciding");
        assertNull(pending.decision());
        // The last trial decides for Vector: now the close one moves as well.
        LiveTrialTest.serveUntilDecided(pending, "l0.out", Map.of("blas-dense", 9.0, "vector-dense", 7.0), 9);
        assertEquals("vector-dense", close.decision().chosen());
    }

    @Test
    void theLeastSummedTimeNamesTheModelsPathNotTheMostLayers() {
        Scheduler s = scheduler(Policy.auto(), TuningStore.inMemory());
        // BLAS wins three layers by a hair, Vector one by far: Vector serves the four in less time (10.15 ms to 12).
        LiveTrial close = open(s, 2048, "l0.down", "l1.down", "l2.down");
        LiveTrial clear = open(s, 512, "l0.qkv");
        LiveTrialTest.serveUntilDecided(close, "l0.down", Map.of("blas-dense", 1.0, "vector-dense", 1.05), 1);
        LiveTrialTest.serveUntilDecided(clear, "l0.qkv", Map.of("blas-dense", 9.0, "vector-dense", 7.0), 9);
        assertEquals("vector-dense", clear.decision().chosen());
        assertEquals("vector-dense", close.decision().chosen(), close.decision().reason());
        assertEquals(3, s.plan().entries().stream().filter(e -> e.layer().endsWith(".down")
                && e.decision().chosen().equals("vector-dense")).count(), "each layer of the signature moved");
    }
}

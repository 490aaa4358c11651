package org.lacuna.runtime.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;

/** Policies are honoured; measurements decide close calls; dense measured faster always beats sparse. */
class SchedulerPolicyTest {
    private final TestTables.ScriptedClock clock = new TestTables.ScriptedClock();

    private Scheduler scheduler(Policy policy) {
        return new Scheduler(TestTables.CPU, TestTables.cpu(), TuningStore.inMemory(), policy, clock::timer);
    }

    /** BLAS and Vector dense predicted within the margin of each other (150 vs 120 GFLOP/s), 2:4 far behind. */
    private List<Candidate> candidates(double blasMillis, double vectorMillis, double twoFourMillis) {
        LinearStatistics s = new LinearStatistics(512, 768, 3072, DType.F16, 0.5, 1.0, 1.0);
        return List.of(clock.taking(LinearCandidates.predicted("cpu", "blas-dense", s, DType.F16), blasMillis),
                clock.taking(LinearCandidates.predicted("cpu", "vector-dense", s, DType.F16), vectorMillis),
                clock.taking(LinearCandidates.predicted("cpu", "two-four", s, DType.F16), twoFourMillis));
    }

    private static LinearStatistics stats() {
        return new LinearStatistics(512, 768, 3072, DType.F16, 0.5, 1.0, 1.0);
    }

    @Test
    void autoMeasuresTheCloseCallAndTheMeasurementDecides() {
        // A 25% margin: 2:4's prediction (its rate 60 GFLOP/s on half the products) is outside it, the two dense
        // paths' within.
        Scheduler narrow = new Scheduler(TestTables.CPU, TestTables.cpu(), TuningStore.inMemory(), Policy.auto(),
                clock::timer, 0.25, Scheduler.DEFAULT_BUDGET_MILLIS);
        Decision d = narrow.decide("fc1", stats(), candidates(9.0, 7.0, 30.0));
        assertEquals(Decision.Source.MEASURED, d.source(), d.reason());
        assertEquals("vector-dense", d.chosen(), "measured faster although predicted slower: " + d.reason());
        assertTrue(clock.runs("blas-dense") >= 2 && clock.runs("vector-dense") >= 2);
        assertEquals(0, clock.runs("two-four"), "2:4 is predicted far outside the margin: never run");
        assertEquals(null, d.estimate("two-four").measuredMillis());
    }

    @Test
    void theCandidateMeasuredFirstDoesNotPayForCodeStillCompiling() {
        // A fresh JVM: the first four calls of any candidate take 60 ms more (code they share is still interpreted),
        // then BLAS takes 7 ms and the Java GEMM 9. Measured one candidate after the other, BLAS (predicted ahead, so
        // measured first) would have taken all four slow calls and lost.
        int[] calls = {0};
        LinearStatistics s = stats();
        List<Candidate> c = List.of(
                coldAtFirst(LinearCandidates.predicted("cpu", "blas-dense", s, DType.F16), 7.0, calls),
                coldAtFirst(LinearCandidates.predicted("cpu", "vector-dense", s, DType.F16), 9.0, calls));
        Decision d = scheduler(Policy.auto()).decide("fc1", s, c);
        assertEquals(Decision.Source.MEASURED, d.source(), d.reason());
        assertEquals("blas-dense", d.chosen(), d.reason());
        assertEquals(7.0, d.estimate("blas-dense").measuredMillis(), d.reason());
        assertEquals(9.0, d.estimate("vector-dense").measuredMillis(), d.reason());
    }

    @Test
    void aStoredChoiceMeasuredOneCandidateAfterTheOtherIsMeasuredAgain() {
        TuningStore store = TuningStore.inMemory();
        Decision made = new Scheduler(TestTables.CPU, TestTables.cpu(), store, Policy.auto(), clock::timer)
                .decide("fc1", stats(), candidates(9.0, 7.0, 30.0));
        assertEquals(Decision.Source.MEASURED, made.source(), made.reason());
        clock.runs.clear();
        Decision reused = new Scheduler(TestTables.CPU, TestTables.cpu(), store, Policy.auto(), clock::timer)
                .decide("fc1", stats(), candidates(9.0, 7.0, 30.0));
        assertEquals(Decision.Source.STORED, reused.source(), reused.reason());
        assertTrue(clock.runs.isEmpty(), "a choice measured in rounds is reused: " + clock.runs);

        // The same choice as an older build stored it (no measuring method), with the first-measured BLAS slow.
        List<String> names = made.candidates().stream().map(Decision.Estimate::name).toList();
        String key = made.signature() + "|candidates=" + String.join(";", names) + ";";
        assertTrue(store.choice(TestTables.CPU, key).isPresent(), "the key choices are stored under");
        store.putChoice(TestTables.CPU, key, new TuningStore.StoredChoice("vector-dense", "auto",
                Decision.Source.MEASURED, names, java.util.Map.of(), java.util.Map.of("blas-dense", 64.0,
                "vector-dense", 4.0), TuningStore.now(), null), java.util.Map.of());
        Decision remeasured = new Scheduler(TestTables.CPU, TestTables.cpu(), store, Policy.auto(), clock::timer)
                .decide("fc1", stats(), candidates(5.0, 7.0, 30.0));
        assertEquals(Decision.Source.MEASURED, remeasured.source(), remeasured.reason());
        assertEquals("blas-dense", remeasured.chosen(), remeasured.reason());
    }

    /** {@code candidate} taking {@code millis}, plus 60 ms while fewer than four calls of any candidate have run. */
    private Candidate coldAtFirst(Candidate candidate, double millis, int[] calls) {
        return candidate.bound(() -> {
            clock.runs.merge(candidate.name(), 1, Integer::sum);
            clock.nextMillis = millis + (calls[0]++ < 4 ? 60 : 0);
        });
    }

    @Test
    void autoLetsAClearPredictionStandButMeasuresTheDensePathsAgainstEachOther() {
        // One dense path, 2:4 outside a 5% margin: the prediction stands, nothing runs.
        Scheduler s = new Scheduler(TestTables.CPU, TestTables.cpu(), TuningStore.inMemory(), Policy.auto(),
                clock::timer, 0.05, Scheduler.DEFAULT_BUDGET_MILLIS);
        List<Candidate> all = candidates(9.0, 7.0, 30.0);
        Decision d = s.decide("fc1", stats(), List.of(all.get(0), all.get(2)));
        assertEquals(Decision.Source.PREDICTED, d.source(), d.reason());
        assertEquals("blas-dense", d.chosen());
        assertTrue(clock.runs.isEmpty(), "nothing measured: " + clock.runs);
        // Two dense paths: their order is what the table misjudges, so they are measured however far apart their
        // predictions; 2:4, outside the margin, is not.
        Scheduler both = new Scheduler(TestTables.CPU, TestTables.cpu(), TuningStore.inMemory(), Policy.auto(),
                clock::timer, 0.05, Scheduler.DEFAULT_BUDGET_MILLIS);
        Decision measured = both.decide("fc1", stats(), all);
        assertEquals(Decision.Source.MEASURED, measured.source(), measured.reason());
        assertEquals("vector-dense", measured.chosen(), measured.reason());
        assertEquals(0, clock.runs("two-four"));
    }

    @Test
    void aSparseWinnerNeverStaysChosenWhereDenseMeasuredFaster() {
        // At 4096 tokens the table predicts 2:4 well ahead; the "device" disagrees.
        LinearStatistics s = new LinearStatistics(4096, 768, 3072, DType.F16, 0.5, 1.0, 1.0);
        Scheduler scheduler = new Scheduler(TestTables.CPU, withFastTwoFour(), TuningStore.inMemory(),
                Policy.auto(), clock::timer);
        List<Candidate> c = List.of(clock.taking(LinearCandidates.predicted("cpu", "blas-dense", s, DType.F16), 5.0),
                clock.taking(LinearCandidates.predicted("cpu", "two-four", s, DType.F16), 8.0));
        double predictedTwoFour = scheduler.predictMillis(c.get(1));
        assertTrue(predictedTwoFour * 1.5 < scheduler.predictMillis(c.get(0)), "the setup predicts 2:4 clearly ahead");
        Decision d = scheduler.decide("fc1", s, c);
        assertEquals("blas-dense", d.chosen(), d.reason());
        assertEquals(Decision.Source.MEASURED, d.source());
        // Both predictions were too slow here, so both corrections step down, at most one bounded step each; 2:4's
        // never ends below dense's.
        assertTrue(scheduler.corrections().get("cpu.two-four") >= scheduler.corrections().get("cpu.blas-dense"),
                "2:4's predictions are not corrected downwards relative to dense: " + scheduler.corrections());
    }

    @Test
    void oneWildMeasurementMovesAKernelsCorrectionByOneBoundedStepOnly() {
        // BLAS measured 60x slower than predicted (a busy machine): its correction moves one step, not 60x.
        Scheduler s = scheduler(Policy.fastestMeasured());
        decideWithSlowBlas(s, 512);
        assertEquals(Scheduler.CORRECTION_STEP, s.corrections().get("cpu.blas-dense"), 1e-9,
                "one step up: " + s.corrections());
        for (int tokens = 16; tokens <= 8192; tokens *= 2) {
            decideWithSlowBlas(s, tokens);
        }
        assertEquals(Scheduler.CORRECTION_LIMIT, s.corrections().get("cpu.blas-dense"), 1e-9,
                "repeated outliers stop at the limit: " + s.corrections());
    }

    private void decideWithSlowBlas(Scheduler s, int tokens) {
        LinearStatistics st = new LinearStatistics(tokens, 768, 3072, DType.F16, 0.5, 1.0, 1.0);
        Candidate blas = LinearCandidates.predicted("cpu", "blas-dense", st, DType.F16);
        double slow = 60 * s.predictMillis(blas);
        Candidate vector = LinearCandidates.predicted("cpu", "vector-dense", st, DType.F16);
        s.decide("fc1", st, List.of(clock.taking(blas, slow), clock.taking(vector, s.predictMillis(vector))));
    }

    @Test
    void aStoredCorrectionOutsideTheBoundsIsClampedOnLoad() {
        TuningStore store = TuningStore.inMemory();
        store.putChoice(TestTables.CPU, "old", new TuningStore.StoredChoice("vector-dense", "auto",
                Decision.Source.MEASURED, List.of("blas-dense", "vector-dense"), java.util.Map.of(), null,
                TuningStore.now(), Scheduler.MEASURING), java.util.Map.of("cpu.blas-dense", 14.25, "cpu.vector-dense", Double.NaN));
        Scheduler s = new Scheduler(TestTables.CPU, TestTables.cpu(), store, Policy.auto(), clock::timer);
        assertEquals(Scheduler.CORRECTION_LIMIT, s.corrections().get("cpu.blas-dense"), 1e-9);
        assertEquals(1.0, s.corrections().get("cpu.vector-dense"), 1e-9);
    }

    private static EfficiencyTable withFastTwoFour() {
        return TestTables.cpu().with("cpu.two-four", new KernelRate(300e9, 20e9, 5e-6));
    }

    @Test
    void fastestMeasuredMeasuresEveryCandidate() {
        Decision d = scheduler(Policy.fastestMeasured()).decide("fc1", stats(), candidates(9.0, 7.0, 3.0));
        assertEquals("two-four", d.chosen());
        assertTrue(d.candidates().stream().allMatch(e -> e.measuredMillis() != null));
        assertTrue(clock.runs("two-four") >= 2);
    }

    @Test
    void predictedOnlyNeverRunsAnything() {
        Decision d = scheduler(Policy.predictedOnly()).decide("fc1", stats(), candidates(9.0, 7.0, 3.0));
        assertEquals("blas-dense", d.chosen());
        assertEquals(Decision.Source.PREDICTED, d.source());
        assertTrue(clock.runs.isEmpty());
    }

    @Test
    void aForcedKernelWinsWhereOfferedAndTheModeDecidesElsewhere() {
        Scheduler s = scheduler(Policy.predictedOnly().forcing("linear", "two-four"));
        assertEquals(Decision.Source.FORCED, s.decide("fc1", stats(), candidates(9, 7, 30)).source());
        assertEquals("two-four", s.decide("fc1", stats(), candidates(9, 7, 30)).chosen());
        LinearStatistics dense = new LinearStatistics(512, 768, 3072, DType.F16, 1.0, 0.0, 1.0);
        Decision fallback = s.decide("qkv", dense, List.of(LinearCandidates.predicted("cpu", "blas-dense", dense,
                DType.F16), LinearCandidates.predicted("cpu", "vector-dense", dense, DType.F16)));
        assertEquals("blas-dense", fallback.chosen());
        assertTrue(fallback.reason().contains("not offered"), fallback.reason());
        assertTrue(clock.runs.isEmpty());
    }

    @Test
    void aDecisionIsMadeOncePerSignature() {
        Scheduler s = scheduler(Policy.auto());
        s.decide("fc1", stats(), candidates(9.0, 7.0, 30.0));
        int runs = clock.runs("blas-dense");
        Decision again = s.decide("fc1", new LinearStatistics(300, 768, 3072, DType.F16, 0.5, 1.0, 1.0),
                candidates(1.0, 20.0, 30.0));
        assertEquals(runs, clock.runs("blas-dense"), "300 tokens share the 512 bucket: no new measurement");
        assertEquals("vector-dense", again.chosen());
    }

    @Test
    void policiesParse() {
        assertEquals(Policy.auto(), Policy.parse("auto"));
        assertEquals(Policy.Mode.FASTEST_MEASURED, Policy.parse("fastest-measured").mode());
        Policy p = Policy.parse("predicted-only, linear=csr ,sparse-conv=implicit-sorted");
        assertEquals(Policy.Mode.PREDICTED_ONLY, p.mode());
        assertEquals("csr", p.forcedFor("linear").orElseThrow());
        assertEquals("implicit-sorted", p.forcedFor("sparse-conv").orElseThrow());
        assertEquals(Policy.Mode.AUTO, Policy.parse("attention=in-place").mode());
        assertEquals(p, Policy.parse(p.toString()));
        assertThrows(InvalidInputException.class, () -> Policy.parse("fastest"));
        assertThrows(InvalidInputException.class, () -> Policy.parse("conv=x"));
        assertThrows(InvalidInputException.class, () -> Policy.parse(" "));
    }

    @Test
    void duplicateOrMissingCandidatesAreRefused() {
        Scheduler s = scheduler(Policy.auto());
        assertThrows(InvalidInputException.class, () -> s.decide("x", stats(), List.of()));
        List<Candidate> c = candidates(1, 2, 3);
        assertThrows(InvalidInputException.class, () -> s.decide("x", stats(), List.of(c.get(0), c.get(0))));
    }
}

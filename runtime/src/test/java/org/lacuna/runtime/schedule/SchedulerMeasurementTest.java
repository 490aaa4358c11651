package org.lacuna.runtime.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.DeviceOutOfMemoryException;

/**
 * How {@code auto} measures, with the deterministic CPU table and a scripted clock: interleaved rounds after a
 * warm-up, lower medians, a budget relative to the predicted call, a clear difference needed to override the
 * prediction (dense over a sparse prediction needs only to be faster), and one decision shared by every layer of the
 * same signature.
 */
class SchedulerMeasurementTest {
    private final TestTables.ScriptedClock clock = new TestTables.ScriptedClock();

    private Scheduler scheduler(Policy policy) {
        return new Scheduler(TestTables.CPU, TestTables.cpu(), TuningStore.inMemory(), policy, clock::timer);
    }

    /** BLAS and Vector dense predicted within the margin of each other (150 vs 120 GFLOP/s). */
    private static LinearStatistics dense(long tokens) {
        return new LinearStatistics(tokens, 768, 3072, DType.F16, 1.0, 0.0, 1.0);
    }

    private static Candidate predicted(String name, LinearStatistics s) {
        return LinearCandidates.predicted("cpu", name, s, DType.F16);
    }

    @Test
    void candidatesAreMeasuredInInterleavedRotatingRoundsAfterAWarmUpRound() {
        Scheduler s = scheduler(Policy.auto());
        LinearStatistics st = dense(512);
        s.decide("fc1", st, List.of(clock.taking(predicted("blas-dense", st), 9),
                clock.taking(predicted("vector-dense", st), 7)));
        List<String> seq = clock.sequence;
        assertEquals(List.of("blas-dense", "vector-dense"), seq.subList(0, 2), "a warm-up round first");
        assertEquals(0, seq.size() % 2, seq::toString);
        int rounds = seq.size() / 2 - 1;
        assertTrue(rounds >= Scheduler.MIN_ROUNDS && rounds <= Scheduler.ROUNDS, seq::toString);
        for (int r = 0; r <= rounds; r++) {
            List<String> round = seq.subList(2 * r, 2 * r + 2);
            assertEquals(2, round.stream().distinct().count(), "each round runs each candidate once: " + seq);
            assertEquals(r % 2 == 0 ? "blas-dense" : "vector-dense", round.get(0), "the order rotates: " + seq);
        }
    }

    @Test
    void oneOutlierCallDoesNotDecide() {
        // Both warm-up calls are slow (40 ms, not samples), and BLAS's second timed call hits a busy machine (50 ms); its lower
        // median is still 5 ms, Vector's 7 ms.
        Scheduler s = scheduler(Policy.fastestMeasured());
        LinearStatistics st = dense(512);
        Decision d = s.decide("fc1", st, List.of(
                clock.takingInTurn(predicted("blas-dense", st), 40, 5, 50, 5, 5, 5),
                clock.takingInTurn(predicted("vector-dense", st), 40, 7, 7, 7, 7, 7)));
        assertEquals("blas-dense", d.chosen(), d.reason());
        assertEquals(5.0, d.estimate("blas-dense").measuredMillis());
        assertEquals(7.0, d.estimate("vector-dense").measuredMillis());
    }

    @Test
    void autosMeasurementIsBoundedByItsPredictedCalls() {
        Scheduler s = scheduler(Policy.auto());
        LinearStatistics st = dense(16);
        Candidate blas = predicted("blas-dense", st);
        Candidate vector = predicted("vector-dense", st);
        double budget = s.measuringBudgetMillis(List.of(blas, vector),
                Map.of("blas-dense", s.predictMillis(blas), "vector-dense", s.predictMillis(vector)));
        double predictedPair = s.predictMillis(blas) + s.predictMillis(vector);
        assertEquals(Math.max(Scheduler.MIN_BUDGET_MILLIS, Scheduler.BUDGET_PER_PREDICTED_CALL * predictedPair),
                budget, 1e-12, "a small layer's measurement gets a few of its own calls, not the scheduler's budget");
        assertTrue(budget < Scheduler.DEFAULT_BUDGET_MILLIS);

        // Calls that take as long as predicted: warm-ups and rounds stop once the budget is spent.
        s.decide("small", st, List.of(clock.taking(blas, s.predictMillis(blas)),
                clock.taking(vector, s.predictMillis(vector))));
        int calls = clock.runs("blas-dense");
        double spentBeforeLastRound = (calls - 1) * predictedPair;
        assertTrue(spentBeforeLastRound < budget + 1e-12 || calls == 1 + Scheduler.MIN_ROUNDS,
                calls + " calls each of " + predictedPair + " ms a pair, budget " + budget);
        assertTrue(calls * predictedPair <= budget + predictedPair + 1e-12 || calls == 1 + Scheduler.MIN_ROUNDS);

        // Calls far slower than predicted (a cold JIT): the least measurement, a warm-up and two timed rounds.
        Scheduler slow = scheduler(Policy.auto());
        clock.runs.clear();
        slow.decide("small", st, List.of(clock.taking(blas, 100 * budget), clock.taking(vector, 100 * budget)));
        assertEquals(1 + Scheduler.MIN_ROUNDS, clock.runs("blas-dense"));
        assertEquals(1 + Scheduler.MIN_ROUNDS, clock.runs("vector-dense"));

        // Calls far faster than predicted: every round is made, and no more.
        Scheduler fast = scheduler(Policy.auto());
        clock.runs.clear();
        fast.decide("small", st, List.of(clock.taking(blas, 1e-6), clock.taking(vector, 1e-6)));
        assertEquals(1 + Scheduler.ROUNDS, clock.runs("blas-dense"));
    }

    @Test
    void fastestMeasuredGetsTheSchedulersBudgetPerCandidate() {
        Scheduler s = scheduler(Policy.fastestMeasured());
        LinearStatistics st = dense(16);
        Candidate blas = predicted("blas-dense", st);
        Candidate vector = predicted("vector-dense", st);
        assertEquals(2 * Scheduler.DEFAULT_BUDGET_MILLIS, s.measuringBudgetMillis(List.of(blas, vector),
                Map.of("blas-dense", 0.01, "vector-dense", 0.01)), 1e-12);
    }

    @Test
    void aSmallMeasuredDifferenceLetsThePredictionStand() {
        Scheduler s = scheduler(Policy.auto());
        LinearStatistics st = dense(512);
        // Vector measures 3% faster than BLAS, which the table predicts ahead: noise on a few calls, not a finding.
        Decision d = s.decide("fc1", st, List.of(clock.taking(predicted("blas-dense", st), 1.00),
                clock.taking(predicted("vector-dense", st), 0.97)));
        assertEquals(Decision.Source.MEASURED, d.source());
        assertEquals("blas-dense", d.chosen(), d.reason());
        assertTrue(d.reason().contains("the prediction stands"), d.reason());

        // Under fastest-measured the fastest wins, however small the difference.
        Scheduler f = scheduler(Policy.fastestMeasured());
        Decision fd = f.decide("fc1", st, List.of(clock.taking(predicted("blas-dense", st), 1.00),
                clock.taking(predicted("vector-dense", st), 0.97)));
        assertEquals("vector-dense", fd.chosen(), fd.reason());

        // A clear difference overrides the prediction.
        Scheduler c = scheduler(Policy.auto());
        Decision cd = c.decide("fc1", st, List.of(clock.taking(predicted("blas-dense", st), 1.00),
                clock.taking(predicted("vector-dense", st), 0.80)));
        assertEquals("vector-dense", cd.chosen(), cd.reason());
    }

    @Test
    void denseMeasuredBarelyFasterStillBeatsASparsePrediction() {
        // At 4096 tokens a fast 2:4 rate predicts 2:4 ahead; dense measures 2% faster: break-even says dense.
        LinearStatistics st = new LinearStatistics(4096, 768, 3072, DType.F16, 0.5, 1.0, 1.0);
        EfficiencyTable fastTwoFour = TestTables.cpu().with("cpu.two-four", new KernelRate(300e9, 20e9, 5e-6));
        Scheduler s = new Scheduler(TestTables.CPU, fastTwoFour, TuningStore.inMemory(), Policy.auto(),
                clock::timer);
        Candidate twoFour = predicted("two-four", st);
        Candidate blas = predicted("blas-dense", st);
        assertTrue(s.predictMillis(twoFour) < s.predictMillis(blas), "the setup predicts 2:4 ahead");
        Decision d = s.decide("fc1", st, List.of(clock.taking(blas, 4.9), clock.taking(twoFour, 5.0)));
        assertEquals("blas-dense", d.chosen(), d.reason());

    }

    @Test
    void aSparseCandidateKeptWithinTheGainStillLosesToADenseOneMeasuredFaster() {
        // Fast sparse rates predict 2:4 ahead of CSR ahead of dense; CSR measures 3% faster than 2:4 (too little to
        // override the prediction), dense 2% faster than 2:4: dense wins, by break-even.
        LinearStatistics st = new LinearStatistics(4096, 768, 3072, DType.F16, 0.5, 1.0, 1.0);
        EfficiencyTable table = TestTables.cpu().with("cpu.two-four", new KernelRate(300e9, 20e9, 5e-6))
                .with("cpu.csr", new KernelRate(280e9, 20e9, 5e-6));
        Scheduler s = new Scheduler(TestTables.CPU, table, TuningStore.inMemory(), Policy.fastestMeasured(),
                clock::timer);
        Scheduler auto = new Scheduler(TestTables.CPU, table, TuningStore.inMemory(), Policy.auto(), clock::timer,
                10, Scheduler.DEFAULT_BUDGET_MILLIS);
        List<Candidate> c = List.of(clock.taking(predicted("blas-dense", st), 4.9),
                clock.taking(predicted("two-four", st), 5.0), clock.taking(predicted("csr", st), 4.85));
        assertTrue(auto.predictMillis(c.get(1)) < auto.predictMillis(c.get(2))
                && auto.predictMillis(c.get(2)) < auto.predictMillis(c.get(0)), "the setup's prediction order");
        Decision d = auto.decide("fc1", st, c);
        assertEquals("blas-dense", d.chosen(), d.reason());
        assertTrue(d.reason().contains("break-even"), d.reason());
        assertEquals("csr", s.decide("fc1", st, c).chosen(), "fastest-measured takes the fastest");
    }

    @Test
    void aCandidateFailingAfterItsWarmUpDropsOutAndTheDecisionGoesOn() {
        Scheduler s = scheduler(Policy.fastestMeasured());
        LinearStatistics st = dense(512);
        Candidate vector = predicted("vector-dense", st);
        int[] calls = {0};
        // Vector's warm-up call runs; its first timed call runs out of memory.
        Candidate failingLater = vector.bound(() -> {
            clock.runs.merge("vector-dense", 1, Integer::sum);
            if (++calls[0] == 2) {
                throw new DeviceOutOfMemoryException("linear", 1 << 20, "scripted");
            }
            clock.nextMillis = 1;
        });
        Decision d = s.decide("fc1", st, List.of(clock.taking(predicted("blas-dense", st), 9), failingLater));
        assertEquals("blas-dense", d.chosen(), d.reason());
        assertEquals(2, clock.runs("vector-dense"), "no call after the failure");
        assertEquals(9.0, d.estimate("blas-dense").measuredMillis());
        assertEquals(null, d.estimate("vector-dense").measuredMillis(), "a candidate that failed has no time");
    }

    @Test
    void aSecondSchedulerOnTheStoreWaitsForAMeasurementInFlightAndTakesItsChoice() throws Exception {
        TuningStore store = TuningStore.inMemory();
        Scheduler first = new Scheduler(TestTables.CPU, TestTables.cpu(), store, Policy.fastestMeasured(),
                clock::timer);
        Scheduler second = new Scheduler(TestTables.CPU, TestTables.cpu(), store, Policy.fastestMeasured(),
                clock::timer);
        LinearStatistics st = dense(512);
        Decision[] secondsDecision = new Decision[1];
        Thread[] other = new Thread[1];
        Candidate vector = predicted("vector-dense", st);
        // While the first scheduler measures, a second session asks for the same layer from another thread; its own
        // clock would make BLAS the faster.
        Candidate vectorStartingTheOther = vector.bound(() -> {
            if (other[0] == null) {
                other[0] = Thread.ofPlatform().start(() -> secondsDecision[0] = second.decide("fc1", st, List.of(
                        predicted("blas-dense", st).bound(() -> clock.nextMillis = 1),
                        vector.bound(() -> clock.nextMillis = 9))));
            }
            clock.nextMillis = 5;
        });
        Decision d = first.decide("fc1", st, List.of(clock.taking(predicted("blas-dense", st), 9),
                vectorStartingTheOther));
        other[0].join(10_000);
        assertEquals("vector-dense", d.chosen(), d.reason());
        assertEquals("vector-dense", secondsDecision[0].chosen(), secondsDecision[0].reason());
        assertEquals(Decision.Source.STORED, secondsDecision[0].source(), "the second read the first one's choice");
    }

    @Test
    void layersOfOneSignatureShareOneDecisionAndOneMeasurement() {
        Scheduler s = scheduler(Policy.auto());
        LinearStatistics st = dense(512);
        Decision first = null;
        for (int layer = 0; layer < 6; layer++) {
            Decision d = s.decide("encoder." + layer + ".ffn.up", st, List.of(
                    clock.taking(predicted("blas-dense", st), 9), clock.taking(predicted("vector-dense", st), 7)));
            first = first == null ? d : first;
            assertSame(first, d, "layer " + layer + " reuses the first layer's decision");
        }
        assertEquals(6, s.decisionsAsked());
        assertEquals(1, s.decisionsMade());
        int measuredCalls = clock.runs("blas-dense");
        assertTrue(measuredCalls >= 1 + Scheduler.MIN_ROUNDS && measuredCalls <= 1 + Scheduler.ROUNDS,
                "one measurement for six layers: " + measuredCalls);
        assertEquals(6, s.plan().entries().size(), "every layer is in the plan, with the shared decision");
        // Another bucket is another decision.
        s.decide("encoder.0.ffn.up", dense(64), List.of(predicted("blas-dense", dense(64)),
                predicted("vector-dense", dense(64))));
        assertEquals(2, s.decisionsMade());
    }

    @Test
    void signaturesAreWrittenAsTheFormatterWouldWriteThem() {
        LinearStatistics l = new LinearStatistics(300, 768, 3072, DType.F16, 0.4999, 1.0, 0.5);
        assertEquals(String.format(Locale.ROOT, "linear|%s|%dx%d|tokens<=%d|density~%.2f|2:4=%b", DType.F16, 768,
                3072, 512L, LayerStatistics.ratioBucket(0.4999, 0.01), true), l.signature());
        AttentionStatistics a = new AttentionStatistics(3, 90, 40, 45, 12, 32, false, DType.F16);
        assertEquals(String.format(Locale.ROOT,
                "attention|%s|%dx%d|causal=%b|batch<=%d|length<=%d|tokens<=%d|kept~%.2f", DType.F16, 12, 32, false,
                4L, 64L, 128L, LayerStatistics.ratioBucket(0.5, 0.05)), a.signature());
        for (double v : new double[] {0, 0.005, 0.125, 0.35000000000000003, 1, 1.0049, 2.5, 123.456789, -0.25, -3.14159, 1e-9}) {
            for (int decimals = 0; decimals <= 4; decimals++) {
                assertEquals(String.format(Locale.ROOT, "%." + decimals + "f", v), FixedPoint.text(v, decimals),
                        v + " with " + decimals + " decimals");
            }
        }
    }
}

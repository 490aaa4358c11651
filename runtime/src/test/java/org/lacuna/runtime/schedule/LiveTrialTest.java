package org.lacuna.runtime.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;

/**
 * Live-call measurement ({@link LiveTrial}) with the deterministic CPU table and injected call times: the layer's calls
 * are served by the candidates in turn, the decision follows the times, is stored and shared, costs what the slower
 * calls took, and policies that never measure never open a trial.
 */
class LiveTrialTest {
    /** The scheduler's key for {@link #dense dense(512)} with BLAS and Vector dense. */
    static final String DENSE_512_KEY =
            "linear|F16|768x3072|tokens<=512|density~1.00|2:4=false|candidates=blas-dense;vector-dense;";
    private int timersMade;

    private Scheduler scheduler(Policy policy, TuningStore store) {
        return scheduler(policy, store, TestTables.cpu());
    }

    /**
     * A scheduler with no trial budget: these tests' scripted times are far from the table's predictions, and what
     * they test (sampling, elimination, failures) is not the budget ({@link TrialBudgetTest} is). The JIT counts as
     * quiet: a trial on a compiling one is {@link WarmRetryTest}'s.
     */
    private Scheduler scheduler(Policy policy, TuningStore store, EfficiencyTable table) {
        TestTables.ScriptedClock clock = new TestTables.ScriptedClock();
        return new Scheduler(TestTables.CPU, table, store, policy, () -> {
            timersMade++;
            return clock.timer();
        }, Scheduler.DEFAULT_MARGIN, Scheduler.DEFAULT_BUDGET_MILLIS, Double.POSITIVE_INFINITY, JitWatch.quiet());
    }

    /** BLAS and Vector dense predicted within the margin of each other (150 vs 120 GFLOP/s). */
    static LinearStatistics dense(long tokens) {
        return new LinearStatistics(tokens, 768, 3072, DType.F16, 1.0, 0.0, 1.0);
    }

    /** A 2:4 weight at many tokens: with a fast 2:4 rate, 2:4 is predicted ahead of both dense paths. */
    private static LinearStatistics twoFour() {
        return new LinearStatistics(4096, 768, 3072, DType.F16, 0.5, 1.0, 1.0);
    }

    static List<Candidate> candidates(LinearStatistics s, String... names) {
        List<Candidate> out = new java.util.ArrayList<>();
        for (String n : names) {
            // Runnable (the trial never calls it: the layer serves the call itself).
            out.add(LinearCandidates.predicted("cpu", n, s, DType.F16).bound(() -> {
                throw new AssertionError("a live trial must not run a candidate itself");
            }));
        }
        return out;
    }

    /**
     * One layer's calls served as the trial says, each taking {@code millis.get(name)} (its first call of each
     * candidate {@code firstCallMillis}: the one-time costs), until the trial decides; returns the calls served per
     * candidate.
     */
    static Map<String, Integer> serveUntilDecided(LiveTrial trial, Object layer, Map<String, Double> millis,
                                                          double firstCallMillis) {
        // In the order of their first calls.
        Map<String, Integer> served = new java.util.LinkedHashMap<>();
        for (int call = 0; call < 1000 && trial.decision() == null; call++) {
            assertTrue(trial.sampledBy(layer), layer + " takes the samples");
            int which = trial.next();
            String name = trial.names().get(which);
            boolean warmed = served.containsKey(name);
            served.merge(name, 1, Integer::sum);
            trial.served(which, warmed ? millis.get(name) : firstCallMillis, warmed);
        }
        assertNotNull(trial.decision(), "the trial decides");
        return served;
    }

    /** A 512-token dense layer's trial between BLAS and Vector dense, predicted within the margin of each other. */
    static LiveTrial blasOrVector(Scheduler s) {
        LinearStatistics st = dense(512);
        return s.decideLive("fc1", st, candidates(st, "blas-dense", "vector-dense"));
    }

    @Test
    void liveCallsDecideStoreTheChoiceAndCountWhatTheSlowerCallsCost() {
        TuningStore store = TuningStore.inMemory();
        Scheduler s = scheduler(Policy.auto(), store);
        LinearStatistics st = dense(512);
        LiveTrial trial = s.decideLive("fc1", st, candidates(st, "blas-dense", "vector-dense"));
        assertNull(trial.decision(), "predictions within the margin: the live calls decide");
        assertEquals(List.of("blas-dense", "vector-dense"), trial.names());
        assertEquals(Decision.Source.DECIDING, trial.decisionOrProvisional().source());
        assertEquals(1, s.deciding());
        assertEquals(Decision.Source.DECIDING, s.plan().entries().getFirst().decision().source(),
                "the plan shows the layer deciding meanwhile");

        // Vector serves in 7 ms, BLAS (predicted ahead) in 9: the measurement moves the choice.
        Map<String, Integer> served = serveUntilDecided(trial, "fc1", Map.of("blas-dense", 9.0, "vector-dense", 7.0),
                20);
        Decision d = trial.decision();
        assertEquals("vector-dense", d.chosen(), d.reason());
        assertEquals(Decision.Source.MEASURED, d.source());
        assertEquals(9.0, d.estimate("blas-dense").measuredMillis());
        assertEquals(7.0, d.estimate("vector-dense").measuredMillis());
        assertEquals(1 + LiveTrial.SAMPLES, served.get("vector-dense"), "a first call, then the samples");
        assertEquals(1 + LiveTrial.SAMPLES, served.get("blas-dense"));
        assertEquals(0, s.deciding());
        assertEquals(0, timersMade, "the layer times its calls; the scheduler made no measurement of its own");

        // The cost: BLAS's calls beyond Vector's time, its first call (20 ms) included.
        double extra = 20 - 7 + LiveTrial.SAMPLES * (9.0 - 7.0);
        assertEquals(extra, s.trialExtraNanos() / 1e6, 1e-6);
        assertTrue(d.reason().contains("live calls"), d.reason());

        TuningStore.StoredChoice stored = store.choice(TestTables.CPU, DENSE_512_KEY).orElseThrow();
        assertEquals("vector-dense", stored.chosen());
        assertEquals(Scheduler.LIVE_MEASURING, stored.measuring());
        assertEquals(Decision.Source.MEASURED, s.plan().entries().getFirst().decision().source(),
                "the plan entry takes the decision");

        // The same signature later (another layer, another forward) is decided, and a new scheduler reads the store.
        assertSame(d, s.decideLive("fc2", st, candidates(st, "blas-dense", "vector-dense")).decision());
        Scheduler warm = scheduler(Policy.auto(), store);
        Decision read = warm.decideLive("fc1", st, candidates(st, "blas-dense", "vector-dense")).decision();
        assertNotNull(read);
        assertEquals(Decision.Source.STORED, read.source());
        assertEquals("vector-dense", read.chosen());
    }

    @Test
    void theChoiceFollowsTheMeasurementsEitherWay() {
        LinearStatistics st = dense(512);
        for (boolean blasFaster : new boolean[] {true, false}) {
            Scheduler s = scheduler(Policy.fastestMeasured(), TuningStore.inMemory());
            LiveTrial trial = s.decideLive("fc1", st, candidates(st, "blas-dense", "vector-dense"));
            Map<String, Double> millis = blasFaster ? Map.of("blas-dense", 4.0, "vector-dense", 4.4)
                    : Map.of("blas-dense", 4.4, "vector-dense", 4.0);
            serveUntilDecided(trial, "fc1", millis, 4.4);
            assertEquals(blasFaster ? "blas-dense" : "vector-dense", trial.decision().chosen(),
                    trial.decision().reason());
        }
    }

    @Test
    void oneSlowCallDoesNotDecide() {
        Scheduler s = scheduler(Policy.fastestMeasured(), TuningStore.inMemory());
        LiveTrial trial = blasOrVector(s);
        int[] blasCalls = {0};
        for (int call = 0; call < 100 && trial.decision() == null; call++) {
            int which = trial.next();
            boolean blas = trial.names().get(which).equals("blas-dense");
            // BLAS's third call hits a busy machine; its lower median stays 5 ms, Vector's 6.
            double ms = blas ? (++blasCalls[0] == 3 ? 50 : 5) : 6;
            trial.served(which, ms, call >= 2);
        }
        assertEquals("blas-dense", trial.decision().chosen(), trial.decision().reason());
        assertEquals(5.0, trial.decision().estimate("blas-dense").measuredMillis());
    }

    @Test
    void onlyTheFirstLayerSamplesAndTheOthersServeTheBestPredicted() {
        Scheduler s = scheduler(Policy.auto(), TuningStore.inMemory());
        LinearStatistics st = dense(512);
        LiveTrial first = s.decideLive("encoder.0.ffn.up", st, candidates(st, "blas-dense", "vector-dense"));
        LiveTrial second = s.decideLive("encoder.1.ffn.up", st, candidates(st, "blas-dense", "vector-dense"));
        assertSame(first, second, "one trial per signature");
        Object up0 = new Object();
        assertTrue(first.sampledBy(up0), "the first layer to serve a call samples");
        assertFalse(first.sampledBy(new Object()), "another does not, even of the same name");
        assertTrue(first.sampledBy(up0));
        assertEquals("blas-dense", first.names().get(first.provisional()), "BLAS is predicted ahead");
        // The other layer's calls are timed but no samples: they count only towards the cost.
        first.served(first.provisional(), 9, false);
        Map<String, Double> millis = Map.of("blas-dense", 9.0, "vector-dense", 7.0);
        // The sampler's first calls (no samples), then one sample each: the others follow the fastest so far.
        for (int call = 0; call < 4; call++) {
            int which = first.next();
            first.served(which, millis.get(first.names().get(which)), call >= 2);
        }
        assertEquals("vector-dense", first.names().get(first.provisional()), "the fastest so far serves the others");
        serveUntilDecided(first, up0, millis, 9);
        assertEquals("vector-dense", first.decision().chosen());
        assertEquals("vector-dense", first.names().get(first.provisional()), "after the decision, the decided one");
        assertEquals(1, s.decisionsMade());
        assertEquals(2, s.plan().entries().size(), "both layers are in the plan, with the decision");
        assertTrue(s.plan().entries().stream().allMatch(e -> e.decision() == first.decision()));
    }

    /** A trial under auto between blas-dense at 1 ms a call and vector-dense at {@code slowerMillis}, served out. */
    /** The CPU table with a 2:4 kernel fast enough (300 GFLOP/s) to be predicted ahead of both dense paths. */
    private static EfficiencyTable fastTwoFour() {
        return TestTables.cpu().with("cpu.two-four", new KernelRate(300e9, 20e9, 5e-6));
    }

    /** A live trial of a 2:4 layer between both dense paths and 2:4, predicted fastest, under {@code policy}. */
    private LiveTrial twoFourAgainstBothDensePaths(Policy policy) {
        LinearStatistics st = twoFour();
        Scheduler s = scheduler(policy, TuningStore.inMemory(), fastTwoFour());
        return s.decideLive("fc1", st, candidates(st, "blas-dense", "vector-dense", "two-four"));
    }

    private AgainstASlower againstASlower(double slowerMillis) {
        Scheduler s = scheduler(Policy.auto(), TuningStore.inMemory());
        LiveTrial trial = blasOrVector(s);
        Map<String, Integer> served = serveUntilDecided(trial, "fc1",
                Map.of("blas-dense", 1.0, "vector-dense", slowerMillis), 1);
        assertEquals("blas-dense", trial.decision().chosen());
        return new AgainstASlower(trial, served);
    }

    private record AgainstASlower(LiveTrial trial, Map<String, Integer> served) {
    }

    @Test
    void aClearLoserStopsServingUnderAuto() {
        Map<String, Integer> served = againstASlower(10.0).served();
        assertEquals(2, served.get("vector-dense"),
                "after its first call and one sample, a candidate ten times slower serves no more calls");
        assertEquals(1 + LiveTrial.MIN_SAMPLES, served.get("blas-dense"), "the other one left takes its least samples "
                + "(its calls cost nothing beyond it) and is chosen on them");
    }

    @Test
    void aLoserEliminatedOnOneSampleWithNoOtherMeasuredLeavesTheChoiceProvisional() {
        // Vector's one sample, ten times BLAS's, may have held a compilation: with no other runner-up measured, the
        // next process's re-check would time it again.
        Decision d = againstASlower(10.0).trial().decision();
        assertTrue(d.reason().contains("provisional (eliminated on one sample: [vector-dense])"), d.reason());
    }

    @Test
    void aNearTieMeasuredOnEnoughSamplesIsNotReChecked() {
        TuningStore store = TuningStore.inMemory();
        Scheduler s = scheduler(Policy.auto(), store);
        LiveTrial trial = blasOrVector(s);
        serveUntilDecided(trial, "fc1", Map.of("blas-dense", 1.0, "vector-dense", 1.02), 1);
        Decision d = trial.decision();
        assertEquals("blas-dense", d.chosen(), d.reason());
        assertFalse(d.reason().contains("provisional"), d.reason());
        assertTrue(d.reason().contains("a near-tie with vector-dense, each measured " + LiveTrial.MIN_SAMPLES
                + "+ times: not re-checked"), d.reason());
        assertFalse(store.choice(TestTables.CPU, DENSE_512_KEY).orElseThrow().provisionalChoice());
    }

    @Test
    void aCandidateWithinTheFarFactorServesItsLeastSamplesBeforeItStops() {
        // Twice as slow: behind, but not so far that one sample may judge it.
        AgainstASlower run = againstASlower(2.0);
        assertEquals(1 + LiveTrial.MIN_SAMPLES, run.served().get("vector-dense"));
        assertEquals(2.0, run.trial().decision().estimate("vector-dense").measuredMillis());
    }

    @Test
    void theFarFactorWaitsForEveryCandidatesFirstSampleAndJudgesByTheBest() {
        LiveTrial trial = twoFourAgainstBothDensePaths(Policy.auto());
        // 2:4 (a path still compiling) is 40x the best, Vector 2x: after one sample each 2:4 stops, Vector goes on.
        Map<String, Integer> served = serveUntilDecided(trial, "fc1",
                Map.of("blas-dense", 1.0, "vector-dense", 2.0, "two-four", 40.0), 1);
        assertEquals("blas-dense", trial.decision().chosen(), trial.decision().reason());
        assertEquals(2, served.get("two-four"), "a first call and one sample");
        assertEquals(1 + LiveTrial.MIN_SAMPLES, served.get("vector-dense"));
        // One sample (a path still compiling, a burst of load) is not judged on: it is named in the reason. The
        // decision is not provisional: a re-check would time BLAS against its runner-up, Vector, measured twice
        // already and 2x slower, never 2:4.
        assertNull(trial.decision().estimate("two-four").measuredMillis(), "not judged on its one sample");
        assertTrue(trial.decision().reason().contains("not judged on one sample far behind: {two-four=40.0}"),
                trial.decision().reason());
        assertFalse(trial.decision().reason().contains("provisional"), trial.decision().reason());
        // fastest-measured never drops a candidate: every one takes all its samples.
        LiveTrial every = twoFourAgainstBothDensePaths(Policy.fastestMeasured());
        Map<String, Integer> servedAll = serveUntilDecided(every, "fc1",
                Map.of("blas-dense", 1.0, "vector-dense", 2.0, "two-four", 40.0), 1);
        assertEquals(1 + LiveTrial.SAMPLES, servedAll.get("two-four"));
    }

    @Test
    void aSparseCandidateIsConfirmedAgainstEveryDensePath() {
        LinearStatistics st = twoFour();
        EfficiencyTable fastTwoFour = fastTwoFour();
        Scheduler s = scheduler(Policy.auto(), TuningStore.inMemory(), fastTwoFour);
        List<Candidate> c = candidates(st, "blas-dense", "vector-dense", "two-four");
        // Vector is predicted outside the margin of 2:4; it is measured all the same.
        assertTrue(s.predictMillis(c.get(1)) > (1 + Scheduler.DEFAULT_MARGIN) * s.predictMillis(c.get(2)));
        LiveTrial trial = s.decideLive("fc1", st, c);
        assertEquals(java.util.Set.of("two-four", "blas-dense", "vector-dense"),
                java.util.Set.copyOf(trial.names()));
        // 2:4 and BLAS measure alike, Vector fastest: Vector, never measured before, wins.
        serveUntilDecided(trial, "fc1", Map.of("two-four", 5.0, "blas-dense", 5.0, "vector-dense", 4.0), 5);
        assertEquals("vector-dense", trial.decision().chosen(), trial.decision().reason());
        // Dense barely faster than the sparse prediction: break-even keeps dense.
        Scheduler again = scheduler(Policy.auto(), TuningStore.inMemory(), fastTwoFour);
        LiveTrial second = again.decideLive("fc1", st, c);
        serveUntilDecided(second, "fc1", Map.of("two-four", 5.0, "blas-dense", 4.95, "vector-dense", 6.0), 5);
        assertEquals("blas-dense", second.decision().chosen(), second.decision().reason());
    }

    @Test
    void theOtherLayersServeADenseCandidateUntilASparseOneIsMeasuredAhead() {
        LiveTrial trial = twoFourAgainstBothDensePaths(Policy.auto());
        assertEquals("two-four", trial.decisionOrProvisional().chosen(), "2:4 is predicted ahead");
        assertEquals("blas-dense", trial.names().get(trial.provisional()),
                "the other layers serve the best-predicted dense candidate meanwhile");
        // The sampler serves each candidate's first call and one sample: 2:4 measures fastest, the others follow it.
        Map<String, Double> millis = Map.of("two-four", 3.0, "blas-dense", 5.0, "vector-dense", 5.5);
        java.util.Set<String> warmed = new java.util.HashSet<>();
        for (int call = 0; call < 6; call++) {
            assertTrue(trial.sampledBy("fc1"));
            int which = trial.next();
            String name = trial.names().get(which);
            trial.served(which, millis.get(name), !warmed.add(name));
        }
        assertEquals("two-four", trial.names().get(trial.provisional()));
        // Dense predicted ahead: the best-predicted serves the others as before.
        Scheduler dense = scheduler(Policy.auto(), TuningStore.inMemory());
        LiveTrial second = dense.decideLive("fc1", dense(512), candidates(dense(512), "blas-dense", "vector-dense"));
        assertEquals(second.decisionOrProvisional().chosen(), second.names().get(second.provisional()));
    }

    @Test
    void policiesThatNeverMeasureOpenNoTrial() {
        LinearStatistics st = dense(512);
        for (Policy p : List.of(Policy.predictedOnly(), Policy.auto().forcing("linear", "vector-dense"),
                Policy.fastestMeasured().forcing("linear", "blas-dense"))) {
            Scheduler s = scheduler(p, TuningStore.inMemory());
            LiveTrial trial = s.decideLive("fc1", st, candidates(st, "blas-dense", "vector-dense"));
            Decision d = trial.decision();
            assertNotNull(d, p + " decides at once");
            assertEquals(p.forcedFor("linear").isPresent() ? Decision.Source.FORCED : Decision.Source.PREDICTED,
                    d.source());
            p.forcedFor("linear").ifPresent(f -> assertEquals(f, d.chosen()));
            assertEquals(0, s.deciding());
            assertEquals(0, s.trialExtraNanos());
        }
        assertEquals(0, timersMade, "nothing measured");
    }

    @Test
    void aChoiceStoredByAnOlderMeasurementIsMeasuredAgain() {
        TuningStore store = TuningStore.inMemory();
        LinearStatistics st = dense(512);
        String key = DENSE_512_KEY;
        store.putChoice(TestTables.CPU, key, new TuningStore.StoredChoice("blas-dense", "auto",
                Decision.Source.MEASURED, List.of("blas-dense", "vector-dense"), null, Map.of("blas-dense", 1.0),
                TuningStore.now(), "interleaved-rounds"), Map.of());
        Scheduler s = scheduler(Policy.auto(), store);
        assertNull(s.decideLive("fc1", st, candidates(st, "blas-dense", "vector-dense")).decision(),
                "a choice measured before every dense path was confirmed is not reused");
        store.putChoice(TestTables.CPU, key, new TuningStore.StoredChoice("blas-dense", "auto",
                Decision.Source.MEASURED, List.of("blas-dense", "vector-dense"), null, Map.of("blas-dense", 1.0),
                TuningStore.now(), Scheduler.LIVE_MEASURING), Map.of());
        Decision reused = scheduler(Policy.auto(), store).decideLive("fc1", st,
                candidates(st, "blas-dense", "vector-dense")).decision();
        assertEquals(Decision.Source.STORED, reused.source());
    }

    @Test
    void aCandidateFailingOnALiveCallStopsServingAndTheOthersDecide() {
        Scheduler s = scheduler(Policy.fastestMeasured(), TuningStore.inMemory());
        LiveTrial trial = blasOrVector(s);
        int vector = trial.names().indexOf("vector-dense");
        trial.failed(vector, scripted("out of memory"));
        assertTrue(trial.serving());
        assertNull(trial.decision(), "the one left has not served a call yet: it may fail too");
        int blas = trial.next();
        assertEquals("blas-dense", trial.names().get(blas));
        trial.served(blas, 5, false);
        assertNotNull(trial.decision(), "one candidate left, and it serves: nothing to compare");
        assertEquals("blas-dense", trial.decision().chosen(), trial.decision().reason());
        assertTrue(trial.decision().reason().contains("out of memory"), trial.decision().reason());
    }

    private static LacunaException scripted(String what) {
        return new LacunaException(ErrorCode.OUT_OF_MEMORY, "scripted", what);
    }

    @Test
    void theBestPredictedCandidateFailingOnItsFirstCallIsNeverChosen() {
        TuningStore store = TuningStore.inMemory();
        Scheduler s = scheduler(Policy.auto(), store);
        LiveTrial trial = blasOrVector(s);
        int blas = trial.names().indexOf("blas-dense");
        assertEquals("blas-dense", trial.decisionOrProvisional().chosen(), "BLAS is predicted ahead");
        assertEquals(blas, trial.next(), "the best-predicted serves first");
        trial.failed(blas, scripted("BLAS throws on every call"));
        int vector = trial.names().indexOf("vector-dense");
        assertEquals(vector, trial.next(), "the call goes to the other");
        assertEquals(vector, trial.provisional(), "and so do the other layers' calls");
        trial.served(vector, 20, false);
        Decision d = trial.decision();
        assertNotNull(d, "one candidate left, and it served: the trial ends");
        assertEquals("vector-dense", d.chosen(), d.reason());
        assertTrue(d.reason().contains("BLAS throws"), d.reason());
        assertEquals(trial.names().indexOf("vector-dense"), trial.next(), "the calls go to the decided one");
        assertEquals(trial.names().indexOf("vector-dense"), trial.provisional());
        assertEquals(0, s.deciding());
        assertEquals("vector-dense", store.choice(TestTables.CPU, DENSE_512_KEY).orElseThrow().chosen());
    }

    @Test
    void aCandidateThatFailsAfterSamplingDoesNotWinOnItsEarlierSamples() {
        Scheduler s = scheduler(Policy.fastestMeasured(), TuningStore.inMemory());
        LiveTrial trial = blasOrVector(s);
        int blas = trial.names().indexOf("blas-dense");
        // Two calls each (a first call, then a sample): BLAS measured twice as fast.
        for (int call = 0; call < 4; call++) {
            int which = trial.next();
            trial.served(which, which == blas ? 1.0 : 2.0, call >= 2);
        }
        assertEquals(blas, trial.provisional(), "BLAS is the fastest so far");
        trial.failed(blas, scripted("BLAS fails later"));
        Decision d = trial.decision();
        assertNotNull(d);
        assertEquals("vector-dense", d.chosen(), d.reason());
        assertNull(d.estimate("blas-dense").measuredMillis(), "a failed candidate's samples are not counted");
        assertEquals(2.0, d.estimate("vector-dense").measuredMillis());
    }

    @Test
    void everyCandidateFailingEndsTheTrialUndecidedAndItsCallsThrowTheFirstFailure() {
        LinearStatistics st = dense(512);
        LacunaException first = scripted("BLAS failed first");
        Scheduler t = scheduler(Policy.fastestMeasured(), TuningStore.inMemory());
        LiveTrial both = t.decideLive("fc1", st, candidates(st, "blas-dense", "vector-dense"));
        both.failed(0, first);
        assertTrue(both.serving(), "the other candidate still serves");
        assertEquals(1, both.next());
        both.failed(1, new LacunaException(ErrorCode.INTERNAL, "scripted", "the second failed too"));
        assertNull(both.decision(), "no candidate is left to decide for");
        assertFalse(both.serving());
        assertEquals(0, t.deciding(), "the trial is no longer deciding");
        for (LacunaException e : List.of(assertThrows(LacunaException.class, both::next),
                assertThrows(LacunaException.class, both::provisional),
                both.everyCandidateFailed("Linear.forward", "fc1"))) {
            assertEquals(ErrorCode.OUT_OF_MEMORY, e.code(), "the first failure's code");
            assertSame(first, e.getCause());
            assertTrue(e.getMessage().contains("fc1") && e.getMessage().contains("second failed"), e.getMessage());
        }
        assertNull(t.decideLive("fc2", st, candidates(st, "blas-dense", "vector-dense")).decision(),
                "a later layer of the signature opens a new trial");
    }

    @Test
    void nextOnATrialDecidedBeforeItStartedReturnsTheDecision() {
        Scheduler s = scheduler(Policy.predictedOnly(), TuningStore.inMemory());
        LiveTrial trial = blasOrVector(s);
        assertNotNull(trial.decision());
        assertEquals(List.of(trial.decision().chosen()), trial.names());
        assertEquals(0, trial.next());
        assertEquals(0, trial.provisional());
        assertTrue(trial.serving());
    }

    @Test
    void aReleasedSamplerHandsItsSamplesToTheNextLayerToServe() {
        Scheduler s = scheduler(Policy.auto(), TuningStore.inMemory());
        LiveTrial trial = blasOrVector(s);
        Object first = new Object();
        Object second = new Object();
        assertTrue(trial.sampledBy(first));
        assertFalse(trial.sampledBy(second));
        trial.release(second);
        assertTrue(trial.sampledBy(first), "releasing a layer that does not sample changes nothing");
        trial.release(first);
        assertTrue(trial.sampledBy(second), "the next layer to serve a call samples");
        assertFalse(trial.sampledBy(first));
        serveUntilDecided(trial, second, Map.of("blas-dense", 9.0, "vector-dense", 7.0), 20);
        assertEquals("vector-dense", trial.decision().chosen());
    }

    @Test
    void aSamplerThatStopsServingHandsOverAfterTheOthersServedAFewCallsEach() {
        Scheduler s = scheduler(Policy.auto(), TuningStore.inMemory());
        LinearStatistics st = dense(512);
        LiveTrial trial = s.decideLive("fc1", st, candidates(st, "blas-dense", "vector-dense"));
        s.decideLive("fc2", st, candidates(st, "blas-dense", "vector-dense"));
        Object fc1 = new Object();
        Object fc2 = new Object();
        assertTrue(trial.sampledBy(fc1));
        // Both layers serving, one call each per forward: the sampler keeps its role.
        for (int forward = 0; forward < 3 * LiveTrial.QUIET_CALLS_PER_LAYER; forward++) {
            assertFalse(trial.sampledBy(fc2));
            assertTrue(trial.sampledBy(fc1));
        }
        // fc1 stops serving (dropped, never closed): fc2 takes over after its quiet calls.
        int quiet = 0;
        while (!trial.sampledBy(fc2)) {
            quiet++;
            assertTrue(quiet <= 2 * LiveTrial.QUIET_CALLS_PER_LAYER, "hands over after the quiet calls");
        }
        assertEquals(2 * LiveTrial.QUIET_CALLS_PER_LAYER, quiet, "two layers in the trial");
        assertFalse(trial.sampledBy(fc1), "the old sampler is now one of the others");
    }
}

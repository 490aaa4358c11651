package org.lacuna.runtime.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live trial that timed a Java kernel ({@code vector-dense}) while the JIT was compiling does not settle against
 * native code ({@code blas-dense}): its decision is stored provisional and re-tried once in the same process after
 * the JIT has gone quiet, and that re-trial settles and is stored. The JIT's state and its clock are scripted.
 */
class WarmRetryTest {
    /** The JIT's total compilation time and the clock, as the test sets them. */
    private long compilationMillis;
    private long nanos;

    private JitWatch watch() {
        return new JitWatch(() -> compilationMillis, () -> nanos);
    }

    /** Moves the clock on (past the watch's read interval, so it reads the JIT again), compiling or not. */
    private void tick(boolean compiling) {
        nanos += JitWatch.READ_EVERY_NANOS;
        if (compiling) {
            compilationMillis++;
        }
    }

    private Scheduler scheduler(TuningStore store, JitWatch watch) {
        TestTables.ScriptedClock clock = new TestTables.ScriptedClock();
        return new Scheduler(TestTables.CPU, TestTables.cpu(), store, Policy.auto(), clock::timer,
                Scheduler.DEFAULT_MARGIN, Scheduler.DEFAULT_BUDGET_MILLIS, Double.POSITIVE_INFINITY, watch);
    }

    /** One layer's calls as the trial says until it decides, the JIT compiling through every call or through none. */
    private void serveUntilDecided(LiveTrial trial, Map<String, Double> millis, boolean compiling) {
        serveUntilDecided(trial, millis, compiling, () -> { });
    }

    /** As above, {@code afterThirdCall} run once both candidates have served. */
    private void serveUntilDecided(LiveTrial trial, Map<String, Double> millis, boolean compiling,
                                   Runnable afterThirdCall) {
        for (int call = 0; call < 1000 && trial.decision() == null; call++) {
            if (call == 3) {
                afterThirdCall.run();
            }
            tick(compiling);
            assertTrue(trial.sampledBy("fc1"));
            int which = trial.next();
            trial.served(which, millis.get(trial.names().get(which)), call >= 2);
        }
        assertNotNull(trial.decision(), "the trial decides");
    }

    private static final String KEY = LiveTrialTest.DENSE_512_KEY;

    @Test
    void aJavaKernelTimedWhileCompilingIsReTriedWarmBeforeTheChoiceSettles() {
        TuningStore store = TuningStore.inMemory();
        Scheduler s = scheduler(store, watch());
        LiveTrial trial = LiveTrialTest.blasOrVector(s);
        assertNull(trial.decision());

        // Cold: Vector serves in 12 ms while its code compiles, BLAS in 9 ms. BLAS wins the first trial...
        serveUntilDecided(trial, Map.of("blas-dense", 9.0, "vector-dense", 12.0), true);
        Decision cold = trial.decision();
        assertEquals("blas-dense", cold.chosen(), cold.reason());
        assertTrue(cold.reason().contains("measured before the JIT had compiled vector-dense"), cold.reason());
        // ...but not for good: stored provisional, and the scheduler still counts it as deciding.
        assertTrue(store.choice(TestTables.CPU, KEY).orElseThrow().provisionalChoice());
        assertEquals(1, s.deciding());
        double coldExtra = s.trialExtraNanos() / 1e6;

        // A forward ends while the JIT still compiles: nothing re-opens.
        tick(true);
        s.flushLater();
        assertSame(cold, trial.decision());

        // The JIT goes quiet: the next forward's end re-opens the trial, which serves both candidates again.
        nanos += JitWatch.QUIET_NANOS;
        s.flushLater();
        assertNull(trial.decision(), "re-opened once the JIT is quiet");
        assertEquals(1, s.deciding());

        // Warm, Vector serves in 7 ms: the re-trial settles on it, stored confirmed, its cost counted as choosing.
        serveUntilDecided(trial, Map.of("blas-dense", 9.0, "vector-dense", 7.0), false);
        Decision warm = trial.decision();
        assertEquals("vector-dense", warm.chosen(), warm.reason());
        assertTrue(warm.reason().contains("re-tried warm after the JIT had compiled vector-dense"), warm.reason());
        assertFalse(warm.reason().contains("measured before the JIT"), warm.reason());
        TuningStore.StoredChoice stored = store.choice(TestTables.CPU, KEY).orElseThrow();
        assertEquals("vector-dense", stored.chosen());
        assertFalse(stored.provisionalChoice(), "settled warm");
        assertEquals(0, s.deciding());
        assertTrue(s.trialExtraNanos() / 1e6 > coldExtra, "the re-trial's slower calls count as choosing too");
        assertEquals("vector-dense", s.plan().entries().getFirst().decision().chosen());

        // Re-tried once only: later forwards' ends leave it as it is.
        nanos += JitWatch.QUIET_NANOS;
        s.flushLater();
        assertSame(warm, trial.decision());
    }

    /** A scheduler and its trial between BLAS and Vector, decided cold ({@link #coldTrialWithBudget}). */
    private record Budgeted(Scheduler scheduler, LiveTrial trial) {
    }

    /**
     * BLAS or Vector with predictions of 16.1 and 20.1 ms (no conversions), on a scheduler whose budget is
     * {@code budgetMillis} of that forward; the cold trial served as predicted while the JIT compiles.
     */
    private Budgeted coldTrialWithBudget(TuningStore store, double budgetMillis) {
        return coldTrialWithBudget(store, budgetMillis, 0);
    }

    /** As above, with {@code decidingMillis} of other layers' deciding CPU time charged once both have served. */
    private Budgeted coldTrialWithBudget(TuningStore store, double budgetMillis, double decidingMillis) {
        EfficiencyTable table = TestTables.cpu()
                .with("cpu.blas-dense", new KernelRate(150e9, 20e9, 5e-6, java.util.List.of(), 0))
                .with("cpu.vector-dense", new KernelRate(120e9, 20e9, 5e-6, java.util.List.of(), 0));
        LinearStatistics st = LiveTrialTest.dense(512);
        java.util.List<Candidate> c = LiveTrialTest.candidates(st, "blas-dense", "vector-dense");
        Scheduler probe = new Scheduler(TestTables.CPU, table, TuningStore.inMemory(), Policy.auto(),
                new TestTables.ScriptedClock()::timer);
        double blas = probe.predictMillis(c.get(0));
        double vector = probe.predictMillis(c.get(1));
        Scheduler s = new Scheduler(TestTables.CPU, table, store, Policy.auto(), new TestTables.ScriptedClock()::timer,
                Scheduler.DEFAULT_MARGIN, Scheduler.DEFAULT_BUDGET_MILLIS, budgetMillis / blas, watch());
        LiveTrial trial = s.decideLive("fc1", st, c);
        serveUntilDecided(trial, Map.of("blas-dense", blas, "vector-dense", vector), true,
                () -> s.chargeCpu(Math.round(decidingMillis * 1e6)));
        return new Budgeted(s, trial);
    }

    @Test
    void aReTrialTheBudgetHoldsIsOpened() {
        // The cold trial spends Vector's five calls beyond BLAS (4 ms each, 20 ms); 60 ms hold a re-trial (its first
        // call and four samples of Vector beyond BLAS, 20 ms more).
        assertReTrialOpensOnceTheJitIsQuiet(coldTrialWithBudget(TuningStore.inMemory(), 60));
    }

    /** {@code b}'s trial decided, a warm re-trial waiting: it is re-opened once the JIT is quiet. */
    private void assertReTrialOpensOnceTheJitIsQuiet(Budgeted b) {
        LiveTrial trial = b.trial();
        assertTrue(trial.decision().reason().contains("re-tried warm in this process"), trial.decision().reason());
        assertEquals(1, b.scheduler().deciding(), "the re-trial waits for the JIT");
        tick(true);
        b.scheduler().flushLater();
        nanos += JitWatch.QUIET_NANOS;
        b.scheduler().flushLater();
        assertNull(trial.decision(), "re-opened once the JIT is quiet");
    }

    @TempDir
    Path folder;

    @Test
    void aReCheckAskedForWhileTheJitCompilesWaitsForItToGoQuietTheStoredChoiceServingMeanwhile() throws IOException {
        Path file = folder.resolve("store.json");
        // The first process, its JIT quiet: Vector's one sample, far behind, eliminates it, and with no other
        // candidate measured the choice rests on that sample: provisional, for the next process to re-check.
        JitWatch first = watch();
        first.compiling();
        nanos += JitWatch.QUIET_NANOS + JitWatch.READ_EVERY_NANOS;
        TuningStore store = TuningStore.open(file);
        Scheduler s = scheduler(store, first);
        LiveTrial trial = LiveTrialTest.blasOrVector(s);
        LiveTrialTest.serveUntilDecided(trial, "fc1", Map.of("blas-dense", 9.0, "vector-dense", 40.0), 9.0);
        assertTrue(store.choice(TestTables.CPU, KEY).orElseThrow().provisionalChoice(), trial.decision().reason());
        s.plan();

        // The next process asks while its JIT compiles: the stored choice serves, and the layers of the signature
        // that ask meanwhile hold the same re-check.
        TuningStore later = TuningStore.open(file);
        Scheduler next = scheduler(later, watch());
        tick(true);
        LiveTrial held = LiveTrialTest.blasOrVector(next);
        Decision stored = held.decision();
        assertNotNull(stored, "held: decided as stored meanwhile");
        assertEquals(Decision.Source.STORED, stored.source());
        assertEquals("blas-dense", stored.chosen());
        assertTrue(stored.reason().endsWith(Scheduler.RECHECK_HELD), stored.reason());
        assertSame(held, next.decideLive("fc2", LiveTrialTest.dense(512), held.candidates()), "fc2 joins it");
        assertEquals(1, next.deciding(), "the re-check waits");
        assertEquals("blas-dense", held.names().get(held.next()), "the stored choice serves");
        for (int forward = 0; forward < 3; forward++) {
            tick(true);
            next.flushLater();
            assertSame(stored, held.decision(), "still held while the JIT compiles");
        }

        // Quiet: the re-check starts, on warm code, and confirms what it measures.
        nanos += JitWatch.QUIET_NANOS;
        next.flushLater();
        assertNull(held.decision(), "started once the JIT is quiet");
        assertEquals(List.of("blas-dense", "vector-dense"), held.names());
        serveUntilDecided(held, Map.of("blas-dense", 9.0, "vector-dense", 7.0), false);
        Decision rechecked = held.decision();
        assertEquals("vector-dense", rechecked.chosen(), rechecked.reason());
        assertTrue(rechecked.reason().contains(Scheduler.CONFIRMED_BY_RECHECK), rechecked.reason());
        assertFalse(later.choice(TestTables.CPU, KEY).orElseThrow().provisionalChoice());
        assertEquals(0, next.deciding(), "no warm re-try: it ran warm");
    }

    @Test
    void aReTrialPastTheFirstShareIsOpenedWithinTheSecond() {
        // The cold trial spends 20 ms of a 24 ms budget; the re-trial's 20 ms more pass that share but fit in the two a
        // re-trial may take (48 ms): it is opened here rather than left to the next process's re-check, which would
        // convert the weights and pay the first calls again.
        Budgeted b = coldTrialWithBudget(TuningStore.inMemory(), 24);
        assertTrue(b.scheduler().trialCommittedMillis() + 20 > b.scheduler().trialBudgetMillis(),
                "past the first share");
        assertReTrialOpensOnceTheJitIsQuiet(b);
    }

    @Test
    void aReTrialTheBudgetCannotAffordIsLeftToTheNextProcess() {
        // The cold trial spends 20 ms beside 20 ms of other layers' deciding (a budget of 24 ms: as at 1 x 32 tokens,
        // where the deciding CPU time outruns it); a warm re-trial would spend 20 ms more, past the two shares
        // (48 ms) a re-trial may take: it is not opened, and the choice is stored provisional for the next process.
        TuningStore store = TuningStore.inMemory();
        Budgeted b = coldTrialWithBudget(store, 24, 20);
        LiveTrial trial = b.trial();
        Scheduler s = b.scheduler();
        Decision d = trial.decision();
        assertEquals("blas-dense", d.chosen(), d.reason());
        assertTrue(d.reason().contains("the choosing budget leaves no warm re-try"), d.reason());
        assertTrue(d.reason().contains("the next process re-checks it"), d.reason());
        assertTrue(store.choice(TestTables.CPU, KEY).orElseThrow().provisionalChoice());
        assertEquals(0, s.deciding(), "no re-trial waits");
        nanos += JitWatch.QUIET_NANOS;
        s.flushLater();
        assertSame(d, trial.decision(), "the JIT quiet, nothing re-opens");
    }

    @Test
    void runUntilDecidedRunsOnPastItsForwardsUntilTheWarmReTrialHasDecided() {
        Scheduler s = scheduler(TuningStore.inMemory(), watch());
        LiveTrial trial = LiveTrialTest.blasOrVector(s);
        int[] calls = {0};
        // Each forward is one call of the layer and ends as a model's does; the JIT compiles for the first 30.
        int forwards = s.runUntilDecided(() -> {
            tick(calls[0] < 30);
            if (trial.decision() == null) {
                assertTrue(trial.sampledBy("fc1"));
                int which = trial.next();
                boolean cold = calls[0] < 30;
                String name = trial.names().get(which);
                trial.served(which, name.equals("blas-dense") ? 9.0 : cold ? 12.0 : 7.0, calls[0] >= 2);
            }
            calls[0]++;
            nanos += 20_000_000L; // a 20 ms forward
            s.flushLater();
        }, 20);
        assertTrue(forwards > 30, "ran on past its forwards while the re-trial waited: " + forwards);
        assertEquals(0, s.deciding());
        assertEquals("vector-dense", trial.decision().chosen(), trial.decision().reason());
    }

    @Test
    void runUntilDecidedWaitsForTheJitInWallTimeNotForwards() {
        // Long forwards (300 ms each on the watch's clock) with the JIT compiling through every one: once the trial
        // has decided and its choice only waits to be re-tried warm, runUntilDecided stops after
        // MAX_WARM_RETRY_WAIT_NANOS of that wait, not after its 40 forwards (MinkUNet's 2 s forwards made that 80 s).
        Scheduler s = scheduler(TuningStore.inMemory(), watch());
        LiveTrial trial = LiveTrialTest.blasOrVector(s);
        int[] calls = {0};
        long[] decidedAt = {-1};
        int forwards = s.runUntilDecided(() -> {
            tick(true);
            if (trial.decision() == null) {
                assertTrue(trial.sampledBy("fc1"));
                int which = trial.next();
                trial.served(which, trial.names().get(which).equals("blas-dense") ? 9.0 : 12.0, calls[0] >= 2);
            } else {
                decidedAt[0] = decidedAt[0] < 0 ? nanos : decidedAt[0];
                nanos += 300_000_000L;
            }
            calls[0]++;
            s.flushLater();
        }, Scheduler.MAX_DECIDING_FORWARDS);
        assertNotNull(trial.decision());
        assertTrue(trial.decision().reason().contains("re-tried warm in this process"), trial.decision().reason());
        assertEquals(1, s.deciding(), "the re-trial still waits for the JIT");
        assertTrue(forwards < Scheduler.MAX_DECIDING_FORWARDS, "stopped before its forwards ran out: " + forwards);
        assertTrue(nanos - decidedAt[0] >= Scheduler.MAX_WARM_RETRY_WAIT_NANOS, "waited for the JIT first");
    }

    @Test
    void aTrialOnAQuietJitDecidesExactlyAsBefore() {
        // The watch's first reading counts as compiling (it cannot tell a quiet JIT from a busy one): read it once,
        // then nothing compiles for the quiet interval.
        JitWatch watch = watch();
        assertTrue(watch.compiling());
        nanos += JitWatch.QUIET_NANOS;
        TuningStore store = TuningStore.inMemory();
        Scheduler s = scheduler(store, watch);
        LiveTrial trial = LiveTrialTest.blasOrVector(s);
        serveUntilDecided(trial, Map.of("blas-dense", 9.0, "vector-dense", 12.0), false);
        Decision d = trial.decision();
        assertEquals("blas-dense", d.chosen(), d.reason());
        assertFalse(d.reason().contains("JIT"), d.reason());
        assertFalse(store.choice(TestTables.CPU, KEY).orElseThrow().provisionalChoice());
        assertEquals(0, s.deciding());
        nanos += JitWatch.QUIET_NANOS;
        s.flushLater();
        assertSame(d, trial.decision(), "nothing to re-try");
    }

    @Test
    void theWatchReadsTheJitAtMostOncePerIntervalAndWaitsForQuiet() {
        long[] reads = {0};
        JitWatch w = new JitWatch(() -> {
            reads[0]++;
            return compilationMillis;
        }, () -> nanos);
        assertTrue(w.compiling(), "a first reading cannot tell a quiet JIT from a busy one");
        nanos += JitWatch.READ_EVERY_NANOS - 1;
        w.compiling();
        assertEquals(1, reads[0], "within the interval the last reading answers");
        nanos += JitWatch.QUIET_NANOS;
        assertFalse(w.compiling(), "no compilation for the quiet interval");
        tick(true);
        assertTrue(w.compiling(), "compilation time moved");
        assertFalse(new JitWatch(() -> -1, () -> nanos).compiling(), "a JVM reporting no JIT never compiles");
    }
}

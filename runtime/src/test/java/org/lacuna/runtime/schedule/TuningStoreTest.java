package org.lacuna.runtime.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.data.DType;

/** The store round-trips, is reused across runs, and survives corrupt, truncated and stale files. */
class TuningStoreTest {
    @TempDir
    Path folder;

    private final TestTables.ScriptedClock clock = new TestTables.ScriptedClock();
    /** The writes behind a store opened with it queued, run when a test says (or never: a process that dies). */
    private final List<Runnable> writer = new java.util.ArrayList<>();

    private Scheduler auto(TuningStore store) {
        return new Scheduler(TestTables.CPU, TestTables.cpu(), store, Policy.auto(), clock::timer);
    }

    /** One decision on a 512-token layer, then the end of the plan (which writes the store). */
    private Decision decideOnce(TuningStore store) {
        Scheduler scheduler = auto(store);
        Decision decision = decide(scheduler, 512);
        scheduler.plan();
        return decision;
    }

    private Decision decide(Scheduler scheduler, long tokens) {
        LinearStatistics s = new LinearStatistics(tokens, 768, 3072, DType.F16, 0.5, 1.0, 1.0);
        return scheduler.decide("fc1", s, List.of(
                clock.taking(LinearCandidates.predicted("cpu", "blas-dense", s, DType.F16), 9.0),
                clock.taking(LinearCandidates.predicted("cpu", "vector-dense", s, DType.F16), 7.0)));
    }

    @Test
    void choicesAreWrittenOnceAtTheEndOfAPlanNotPerDecision() throws IOException {
        Path file = folder.resolve("store.json");
        TuningStore store = TuningStore.open(file);
        Scheduler scheduler = auto(store);
        for (long tokens : new long[] {64, 128, 256, 512, 1024}) {
            decide(scheduler, tokens);
        }
        assertEquals(0, store.writes(), "five decisions, nothing written yet");
        assertFalse(Files.exists(file));
        assertTrue(store.hasUnwrittenChoices());
        scheduler.flush();
        assertEquals(1, store.writes());
        assertFalse(store.hasUnwrittenChoices());
        scheduler.flush();
        scheduler.plan();
        assertEquals(1, store.writes(), "nothing new: flushing again writes nothing");
        assertEquals(5, TuningStore.open(file).choiceCount(TestTables.CPU));
        // A decision the store already holds (same bucket) adds nothing to write.
        decide(scheduler, 500);
        scheduler.flush();
        assertEquals(1, store.writes());
        decide(scheduler, 4000);
        scheduler.plan();
        assertEquals(2, store.writes());
        assertEquals(6, TuningStore.open(file).choiceCount(TestTables.CPU));
        assertTrue(Files.readString(file).contains("tokens<=4096"));
    }

    @Test
    void writesBehindAreCoalescedAndEverySessionSharesAChoiceBeforeItIsWritten() throws IOException {
        Path file = folder.resolve("store.json");
        TuningStore store = TuningStore.open(file, writer::add);
        Scheduler scheduler = auto(store);
        decide(scheduler, 64);
        scheduler.flushLater();
        assertEquals(1, writer.size(), "one write queued");
        assertTrue(store.writeQueued());
        decide(scheduler, 128);
        scheduler.flushLater();
        scheduler.flushLater();
        assertEquals(1, writer.size(), "later requests join the queued write");
        assertEquals(0, store.writes());
        assertFalse(Files.exists(file), "nothing written on the forward");
        // Another session on the store (a Spark task beside its driver) reads the choice before it reaches the disk.
        Scheduler other = auto(store);
        assertEquals(Decision.Source.STORED, decide(other, 128).source());
        decide(scheduler, 256);
        writer.remove(0).run();
        assertEquals(1, store.writes(), "one write, of everything recorded by the time it ran");
        assertFalse(store.hasUnwrittenChoices());
        assertEquals(3, TuningStore.open(file).choiceCount(TestTables.CPU));
        scheduler.flushLater();
        assertTrue(writer.isEmpty(), "nothing unwritten: nothing queued");
    }

    /** A decided choice, then a trial still deciding between the two dense paths of another signature. */
    private LiveTrial oneChoiceAndATrial(Scheduler scheduler) {
        decide(scheduler, 64);
        LinearStatistics st = LiveTrialTest.dense(512);
        LiveTrial trial = scheduler.decideLive("fc2", st, LiveTrialTest.candidates(st, "blas-dense", "vector-dense"));
        assertEquals(null, trial.decision(), "both dense paths are measured: a trial");
        return trial;
    }

    @Test
    void aForwardHandsTheWriteOverOnlyOnceItsLiveTrialsHaveDecided() {
        // The writer's first write takes a core from the calls a trial is timing: it waits for the last decision.
        Path file = folder.resolve("store.json");
        TuningStore store = TuningStore.open(file, writer::add);
        Scheduler scheduler = auto(store);
        LiveTrial trial = oneChoiceAndATrial(scheduler);
        scheduler.flushLater();
        assertTrue(writer.isEmpty(), "a trial still deciding: the forward hands nothing over");
        assertTrue(store.hasUnwrittenChoices());
        LiveTrialTest.serveUntilDecided(trial, "fc2", java.util.Map.of("blas-dense", 1.0, "vector-dense", 1.5), 1);
        scheduler.flushLater();
        assertEquals(1, writer.size(), "the forward in which the last trial decided hands the write over");
        writer.remove(0).run();
        assertEquals(2, TuningStore.open(file).choiceCount(TestTables.CPU), "the earlier choice and the trial's");
    }

    @Test
    void aTrialThatNeverDecidesHoldsTheWriteBackOnlyForAWhile() {
        // Its layers are no longer called (a shape seen once): the choices made beside it still reach the file.
        Path file = folder.resolve("store.json");
        TuningStore store = TuningStore.open(file, writer::add);
        Scheduler scheduler = auto(store);
        oneChoiceAndATrial(scheduler);
        for (int forward = 0; forward < Scheduler.MAX_DEFERRED_WRITES; forward++) {
            scheduler.flushLater();
        }
        assertTrue(writer.isEmpty(), "the write waits for the trial a while");
        scheduler.flushLater();
        assertEquals(1, writer.size(), "then it is handed over, trial or not");
        writer.remove(0).run();
        assertEquals(1, TuningStore.open(file).choiceCount(TestTables.CPU), "the choice made beside the trial");
    }

    @Test
    void aProcessThatDiesBeforeItsWriteLosesOnlyItsNewestChoicesWhichTheNextMakesAgain() {
        Path file = folder.resolve("store.json");
        TuningStore store = TuningStore.open(file, writer::add);
        Scheduler scheduler = auto(store);
        decide(scheduler, 64);
        scheduler.flush();
        assertEquals(1, store.writes(), "flush writes now");
        decide(scheduler, 128);
        scheduler.flushLater();
        assertEquals(1, writer.size());
        // The process dies here: its queued write never runs. The next one reads the file as it was.
        TuningStore next = TuningStore.open(file);
        assertTrue(next.warnings().isEmpty(), next.warnings()::toString);
        Scheduler again = new Scheduler(TestTables.CPU, TestTables.cpu(), next, Policy.auto(), clock::timer);
        assertEquals(Decision.Source.STORED, decide(again, 64).source(), "what was written is read");
        assertEquals(Decision.Source.MEASURED, decide(again, 128).source(), "what was not is decided again");
    }

    @Test
    void flushWritesNowAndTheQueuedWriteThenFindsNothingToWrite() {
        Path file = folder.resolve("store.json");
        TuningStore store = TuningStore.open(file, writer::add);
        Scheduler scheduler = auto(store);
        decide(scheduler, 64);
        scheduler.flushLater();
        scheduler.flush();
        assertEquals(1, store.writes());
        assertEquals(1, TuningStore.open(file).choiceCount(TestTables.CPU));
        writer.remove(0).run();
        assertEquals(1, store.writes(), "the queued write found it written");
        assertFalse(store.writeQueued());
    }

    @Test
    void choicesTablesAndCorrectionsRoundTripAndAreReusedWithoutMeasuring() {
        Path file = folder.resolve("store.json");
        TuningStore first = TuningStore.open(file);
        first.putEfficiency(TestTables.CPU, TestTables.cpu());
        Decision measured = decideOnce(first);
        assertEquals(Decision.Source.MEASURED, measured.source());
        assertTrue(Files.exists(file));

        clock.runs.clear();
        TuningStore second = TuningStore.open(file);
        assertTrue(second.warnings().isEmpty(), second.warnings()::toString);
        assertEquals(TestTables.cpu(), second.efficiency(TestTables.CPU).orElseThrow());
        assertEquals(first.corrections(TestTables.CPU), second.corrections(TestTables.CPU));
        Decision reused = decideOnce(second);
        assertEquals(Decision.Source.STORED, reused.source(), reused.reason());
        assertEquals(measured.chosen(), reused.chosen());
        assertEquals(7.0, reused.estimate("vector-dense").measuredMillis());
        assertTrue(clock.runs.isEmpty(), "a warm store measures nothing: " + clock.runs);
        assertTrue(second.efficiency(TestTables.GPU).isEmpty(), "another device's key finds nothing");
    }

    @Test
    void aStoredChoiceIsTakenWithoutEstimatingAnyCandidatesWork() {
        TuningStore store = TuningStore.inMemory();
        Decision measured = decideOnce(store);
        assertEquals(Decision.Source.MEASURED, measured.source());

        LinearStatistics s = new LinearStatistics(512, 768, 3072, DType.F16, 0.5, 1.0, 1.0);
        int[] estimates = {0};
        List<Candidate> lazy = new java.util.ArrayList<>();
        for (String name : List.of("blas-dense", "vector-dense")) {
            Candidate eager = LinearCandidates.predicted("cpu", name, s, DType.F16);
            lazy.add(Candidate.lazy(name, eager.kernel(), () -> {
                estimates[0]++;
                return eager.work();
            }, eager.dense(), () -> { }));
        }
        Scheduler warm = auto(store);
        Decision reused = warm.decide("fc1", s, lazy);
        assertEquals(Decision.Source.STORED, reused.source(), reused.reason());
        assertEquals(0, estimates[0], "a choice already made asks no candidate for its work");
        for (String name : List.of("blas-dense", "vector-dense")) {
            assertEquals(measured.estimate(name).predictedMillis(), reused.estimate(name).predictedMillis(),
                    "the stored decision explains itself with the predictions it was made with");
        }
    }

    @Test
    void aCorruptStoreIsIgnoredWithAWarningAndRebuilt() throws IOException {
        Path file = folder.resolve("store.json");
        Files.writeString(file, "{\"format\": \"lacuna-tuning-store\", \"version\": 1, \"devices\": {\"x\": [1, 2");
        TuningStore truncated = TuningStore.open(file);
        assertFalse(truncated.warnings().isEmpty());
        assertTrue(truncated.warnings().get(0).contains("could not be read"), truncated.warnings().get(0));
        assertEquals(Decision.Source.MEASURED, decideOnce(truncated).source());
        TuningStore rebuilt = TuningStore.open(file);
        assertTrue(rebuilt.warnings().isEmpty(), rebuilt.warnings()::toString);
        assertEquals(1, rebuilt.choiceCount(TestTables.CPU));

        Files.write(file, new byte[] {(byte) 0xff, 0, 17, '{'});
        assertFalse(TuningStore.open(file).warnings().isEmpty());
        Files.writeString(file, "[]");
        assertFalse(TuningStore.open(file).warnings().isEmpty());
    }

    @Test
    void aStaleStoreIsIgnored() throws IOException {
        Path file = folder.resolve("store.json");
        TuningStore store = TuningStore.open(file);
        decideOnce(store);
        String text = Files.readString(file).replace("\"version\" : " + TuningStore.FORMAT_VERSION,
                "\"version\" : " + (TuningStore.FORMAT_VERSION + 1));
        Files.writeString(file, text);
        TuningStore stale = TuningStore.open(file);
        assertTrue(stale.warnings().get(0).contains("stale"), stale.warnings()::toString);
        assertEquals(0, stale.choiceCount(TestTables.CPU));
    }

    @Test
    void whatOtherKernelsMeasuredIsIgnoredAndMeasuredAgain() throws IOException {
        Path file = folder.resolve("store.json");
        decideOnce(TuningStore.open(file));
        String text = Files.readString(file);
        assertTrue(text.contains("\"kernels\" : \"" + TuningStore.KERNELS + "\""), text);
        assertEquals(1, TuningStore.open(file).choiceCount(TestTables.CPU), "this build's own entry was dropped");

        Files.writeString(file, text.replace(TuningStore.KERNELS, "0123456789abcdef"));
        TuningStore other = TuningStore.open(file);
        assertEquals(1, other.warnings().size(), other.warnings()::toString);
        assertTrue(other.warnings().get(0).contains("other kernels") && other.warnings().get(0).contains(
                "0123456789abcdef"), other.warnings()::toString);
        assertEquals(0, other.choiceCount(TestTables.CPU));
        assertTrue(other.efficiency(TestTables.CPU).isEmpty());
        assertEquals(Decision.Source.MEASURED, decideOnce(other).source(), "the choice was not measured again");
        TuningStore rebuilt = TuningStore.open(file);
        assertTrue(rebuilt.warnings().isEmpty(), rebuilt.warnings()::toString);
        assertEquals(1, rebuilt.choiceCount(TestTables.CPU));

        // A file from before the kernels were named holds no fingerprint: its entries are measured again too.
        Files.writeString(file, Files.readString(file).replace("\"kernels\" : \"" + TuningStore.KERNELS + "\"",
                "\"kernels\" : null"));
        assertEquals(0, TuningStore.open(file).choiceCount(TestTables.CPU));
    }

    @Test
    void anUnwritableStoreKeepsChoicesInMemory() throws IOException {
        Path blocker = folder.resolve("not-a-folder");
        Files.writeString(blocker, "x");
        TuningStore store = TuningStore.open(blocker.resolve("store.json"));
        assertEquals(Decision.Source.MEASURED, decideOnce(store).source());
        assertFalse(store.warnings().isEmpty());
        assertEquals(1, store.choiceCount(TestTables.CPU));
    }

    /** The record time is written by arithmetic as {@code Instant.toString} writes it, to the second. */
    @Test
    void recordTimeMatchesTheInstantsOwnText() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        List<Long> seconds = new java.util.ArrayList<>(List.of(0L, -1L, 59L, 86_399L, 86_400L, 951_782_400L,
                951_868_799L, 4_107_542_400L, 253_402_300_799L, -62_167_219_200L));
        for (int i = 0; i < 2000; i++) {
            seconds.add(random.nextLong(-62_167_219_200L, 253_402_300_800L));
        }
        for (long second : seconds) {
            assertEquals(java.time.Instant.ofEpochSecond(second).toString(), TuningStore.isoSecond(second),
                    "epoch second " + second);
        }
        String now = TuningStore.now();
        assertEquals(java.time.Instant.parse(now).toString(), now);
    }
}

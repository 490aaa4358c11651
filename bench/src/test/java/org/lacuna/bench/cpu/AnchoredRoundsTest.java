package org.lacuna.bench.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lacuna.bench.measure.MeasurementPlan;

class AnchoredRoundsTest {
    private static final MeasurementPlan PLAN = new MeasurementPlan(1, 4_000, 50, 3, 3_000, 1.0);

    private static Timing timing(String name, double ms) {
        return new Timing(name, "test", name, ms, ms * 0.9, ms * 1.2, 10, 1, 2, null, null);
    }

    @Test
    void eachRoundTakesItsShareAndOnlyTheFirstWarmsUpFully() {
        MeasurementPlan first = AnchoredRounds.roundPlan(PLAN, 0, 5);
        assertEquals(4_000, first.warmupMillis());
        assertEquals(10, first.samples());
        assertEquals(600, first.maxMeasureMillis(), 1e-9);
        assertEquals(3, first.minSamples());
        MeasurementPlan later = AnchoredRounds.roundPlan(PLAN, 3, 5);
        assertEquals(AnchoredRounds.LATER_WARMUP_MILLIS, later.warmupMillis());
        assertEquals(first.samples(), later.samples());
        // A share below the minimum keeps the minimum; a short warm-up stays as short.
        MeasurementPlan quick = AnchoredRounds.roundPlan(new MeasurementPlan(1, 5, 5, 2, 30, 0.5), 1, 5);
        assertEquals(2, quick.samples());
        assertEquals(5, quick.warmupMillis());
        assertEquals(PLAN, AnchoredRounds.roundPlan(PLAN, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> AnchoredRounds.roundPlan(PLAN, 5, 5));
    }

    @Test
    void theSidesTakeTurnsAndTheSpeedUpIsTheMedianRatio() throws Exception {
        List<String> order = new ArrayList<>();
        double[] lacunaMs = {10, 10, 12, 10, 10};
        double[] peerMs = {9, 11, 12, 8, 10};
        int[] round = {0, 0};
        AnchoredRounds.Result result = AnchoredRounds.run(CpuCase.denseLinear(512, 768, 3072), 5, PLAN, plan -> {
            order.add("lacuna" + (plan.warmupMillis() == 4_000 ? "-warm" : ""));
            return timing("lacuna-dense", lacunaMs[round[0]++]);
        }, plan -> {
            order.add("torch");
            return Map.of("torch-mm", timing("torch-mm", peerMs[round[1]++]));
        }, "torch-mm");
        assertEquals(List.of("lacuna-warm", "torch", "torch", "lacuna", "lacuna", "torch", "torch", "lacuna",
                "lacuna", "torch"), order);
        CpuRecord.Rounds rounds = result.rounds();
        assertEquals(5, rounds.count());
        assertEquals(List.of(0.9, 1.1, 1.0, 0.8, 1.0), rounds.ratios());
        assertEquals(1.0, rounds.medianRatio(), 1e-12);
        assertEquals(0.8, rounds.minRatio(), 1e-12);
        assertEquals(1.1, rounds.maxRatio(), 1e-12);
        // Each side over the rounds: the median of the medians, the widest percentiles, all samples.
        assertEquals(10.0, result.lacuna().medianMs());
        assertEquals(9.0, result.lacuna().p10Ms(), 1e-12);
        assertEquals(12 * 1.2, result.lacuna().p90Ms(), 1e-12);
        assertEquals(50, result.lacuna().samples());
        assertEquals(10.0, result.peer().medianMs());
        assertTrue(result.others().isEmpty());

        CpuRecord.CaseRow row = CpuRecord.CaseRow.of(CpuCase.denseLinear(512, 768, 3072), result.lacuna(),
                result.peer(), result.others(), rounds, null, null);
        assertEquals(1.0, row.speedup(), 1e-12);
        CpuTargets.Result target = CpuTargets.evaluate(List.of(row), null).getFirst();
        assertEquals(1.0, target.value(), 1e-12);
        assertTrue(target.summary().contains("median of 5 rounds, 0.800-1.100x"), target.summary());
        assertTrue(CpuRecordMarkdown.speedup(row).equals("1.000x (0.800-1.100, 5 rounds)"),
                CpuRecordMarkdown.speedup(row));
    }

    /** The ratio is the rounds' median, not the ratio of the sides' medians: drift in a round cancels in its ratio. */
    @Test
    void aSlowRoundOnBothSidesLeavesTheRatio() throws Exception {
        double[] lacunaMs = {10, 20, 20};
        double[] peerMs = {10, 20, 20};
        int[] round = {0, 0};
        AnchoredRounds.Result result = AnchoredRounds.run(CpuCase.denseLinear(128, 384, 1536), 3, PLAN,
                plan -> timing("lacuna-dense", lacunaMs[round[0]++]),
                plan -> Map.of("torch-mm", timing("torch-mm", peerMs[round[1]++])), "torch-mm");
        assertEquals(List.of(1.0, 1.0, 1.0), result.rounds().ratios());
    }

    /**
     * Where the median of the rounds' ratios and the ratio of the sides' medians differ (1.2 against 12 / 20 = 0.6),
     * the row's speed-up and its target take the former.
     */
    @Test
    void theRowAndItsTargetTakeTheMedianRatioNotTheRatioOfMedians() throws Exception {
        double[] lacunaMs = {10, 20, 20};
        double[] peerMs = {12, 24, 12};
        int[] round = {0, 0};
        CpuCase c = CpuCase.denseLinear(128, 384, 1536);
        AnchoredRounds.Result result = AnchoredRounds.run(c, 3, PLAN,
                plan -> timing("lacuna-dense", lacunaMs[round[0]++]),
                plan -> Map.of("torch-mm", timing("torch-mm", peerMs[round[1]++])), "torch-mm");
        assertEquals(0.6, result.peer().medianMs() / result.lacuna().medianMs(), 1e-12);
        CpuRecord.CaseRow row = CpuRecord.CaseRow.of(c, result.lacuna(), result.peer(), result.others(),
                result.rounds(), null, null);
        assertEquals(1.2, row.speedup(), 1e-12);
        assertEquals(1.2, CpuTargets.evaluate(List.of(row), null).getFirst().value(), 1e-12);
    }

    @Test
    void aRoundTheAnchorMissedHasNoRatioAndFurtherResultsAreKept() throws Exception {
        int[] round = {0};
        AnchoredRounds.Result result = AnchoredRounds.run(CpuCase.attention(12, 64, 1, 128), 3, PLAN,
                plan -> timing("lacuna-attention", 2.0), plan -> round[0]++ == 1
                        ? Map.of("torch-sdpa", Timing.failed("torch-sdpa", "pytorch", "x", "no sdpa"))
                        : Map.of("torch-explicit", timing("torch-explicit", 4.0), "torch-sdpa",
                        timing("torch-sdpa", 3.0)), "torch-explicit");
        CpuRecord.Rounds rounds = result.rounds();
        assertEquals(3, rounds.count());
        assertEquals(List.of(2.0, 2.0), rounds.ratios());
        assertNull(rounds.peerMs().get(1));
        assertEquals(4.0, result.peer().medianMs());
        assertEquals(1, result.others().size());
        assertEquals("torch-sdpa", result.others().getFirst().name());
        assertEquals(3.0, result.others().getFirst().medianMs());
    }

    @Test
    void overRoundsOfOnlyFailuresIsTheFirstFailure() {
        Timing failed = Timing.failed("torch-mm", "pytorch", "x", "gone");
        assertSame(failed, AnchoredRounds.overRounds(List.of(failed, Timing.failed("torch-mm", "pytorch", "x", "b"))));
        Timing one = timing("torch-mm", 3.0);
        assertSame(one, AnchoredRounds.overRounds(List.of(failed, one)));
        assertFalse(AnchoredRounds.overRounds(List.of(failed)).measured());
    }
}

package org.lacuna.bench.cpu;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.bench.measure.SampleStatistics;

/**
 * A case measured against its PyTorch peer in rounds that take turns: round after round, Lacuna's measurement of the
 * case and the anchor's, the side that goes first alternating, each round with a share of the plan's samples and
 * measuring time. The speed-up is then the median of the rounds' ratios, each taken from two measurements seconds
 * apart: on a shared machine whose speed drifts by 5-15% over minutes, timing all of one side and then all of the
 * other put that drift into the ratio (the dense cases read 0.86x-1.12x PyTorch from run to run with no code change,
 * bench/results/dense-ab-20261206-1945).
 */
final class AnchoredRounds {
    /**
     * Warm-up of every round after the first: the first has compiled the case's code (the plan's full warm-up), so a
     * later round only brings the caches and the threads back.
     */
    static final double LATER_WARMUP_MILLIS = 250;

    /** One side's measurement of the case at a round's plan. */
    @FunctionalInterface
    interface Side<T> {
        T measure(MeasurementPlan plan);
    }

    /**
     * What the rounds gave: each side's timing over the rounds ({@link #overRounds}), the peer's further results
     * (PyTorch's SDPA beside its explicit attention) likewise, and the rounds' ratios.
     */
    record Result(Timing lacuna, Timing peer, List<Timing> others, CpuRecord.Rounds rounds) {
    }

    private AnchoredRounds() {
    }

    /**
     * The plan of round {@code round} of {@code rounds}: the plan's warm-up in the first round,
     * {@link #LATER_WARMUP_MILLIS} at most after it, and in each its share of the samples (at least the plan's
     * minimum) and of the measuring time. One round is the plan itself.
     */
    static MeasurementPlan roundPlan(MeasurementPlan plan, int round, int rounds) {
        if (rounds < 1 || round < 0 || round >= rounds) {
            throw new IllegalArgumentException("round " + round + " of " + rounds);
        }
        int samples = Math.max(plan.minSamples(), Math.ceilDiv(plan.samples(), rounds));
        double warmup = round == 0 ? plan.warmupMillis() : Math.min(plan.warmupMillis(), LATER_WARMUP_MILLIS);
        return new MeasurementPlan(plan.minWarmupLaunches(), warmup, samples, plan.minSamples(),
                plan.maxMeasureMillis() / rounds, plan.minSampleMillis());
    }

    /**
     * Runs {@code rounds} rounds of {@code lacuna} and {@code anchor} (whose results are keyed by name; {@code peerName}
     * is the one the speed-up is taken against), Lacuna first in even rounds and the anchor first in odd ones, and
     * prints each round's times. A round the anchor could not time has no ratio.
     */
    static Result run(CpuCase c, int rounds, MeasurementPlan plan, Side<Timing> lacuna,
                      Side<Map<String, Timing>> anchor, String peerName) {
        List<Timing> lacunaRounds = new ArrayList<>();
        Map<String, List<Timing>> anchorRounds = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            MeasurementPlan roundPlan = roundPlan(plan, round, rounds);
            Map<String, Timing> peers;
            if (round % 2 == 0) {
                lacunaRounds.add(lacuna.measure(roundPlan));
                peers = anchor.measure(roundPlan);
            } else {
                peers = anchor.measure(roundPlan);
                lacunaRounds.add(lacuna.measure(roundPlan));
            }
            anchorRounds.computeIfAbsent(peerName, k -> new ArrayList<>());
            peers.forEach((name, t) -> anchorRounds.computeIfAbsent(name, k -> new ArrayList<>()).add(t));
            if (!peers.containsKey(peerName)) {
                anchorRounds.get(peerName).add(Timing.failed(peerName, TorchCpuAnchors.SOURCE, "PyTorch",
                        "no PyTorch timing in this round"));
            }
            Timing l = lacunaRounds.getLast();
            Timing p = anchorRounds.get(peerName).getLast();
            System.out.printf(Locale.ROOT, "   %-34s round %d/%d: Lacuna %s, %s %s%s%n", c.id(), round + 1, rounds,
                    millis(l), peerName, millis(p), l.measured() && p.measured()
                            ? String.format(Locale.ROOT, ", %.3fx", p.medianMs() / l.medianMs()) : "");
        }
        List<Timing> others = new ArrayList<>();
        anchorRounds.forEach((name, list) -> {
            if (!name.equals(peerName)) {
                others.add(overRounds(list));
            }
        });
        List<Timing> peerRounds = anchorRounds.get(peerName);
        return new Result(overRounds(lacunaRounds), overRounds(peerRounds), others,
                CpuRecord.Rounds.of(lacunaRounds, peerRounds));
    }

    private static String millis(Timing t) {
        return t.measured() ? String.format(Locale.ROOT, "%.4f ms", t.medianMs()) : "not run (" + t.error() + ")";
    }

    /**
     * One side's timing over its rounds: the median of the rounds' medians, the lowest of their 10th percentiles and
     * the highest of their 90th, all their samples and warm-up launches; the first round's relative error. Rounds
     * that failed are left out; where none ran, the first failure.
     */
    static Timing overRounds(List<Timing> rounds) {
        List<Timing> ran = rounds.stream().filter(Timing::measured).toList();
        if (ran.isEmpty()) {
            return rounds.getFirst();
        }
        if (ran.size() == 1) {
            return ran.getFirst();
        }
        Timing first = ran.getFirst();
        double median = SampleStatistics.of(ran.stream().mapToDouble(Timing::medianMs).toArray()).median();
        return new Timing(first.name(), first.source(), first.what(), median,
                ran.stream().mapToDouble(t -> t.p10Ms()).min().orElseThrow(),
                ran.stream().mapToDouble(t -> t.p90Ms()).max().orElseThrow(),
                ran.stream().mapToInt(t -> t.samples()).sum(),
                ran.stream().mapToInt(t -> t.launchesPerSample()).max().orElseThrow(),
                ran.stream().mapToInt(t -> t.warmupLaunches()).sum(), first.relativeError(), null);
    }
}

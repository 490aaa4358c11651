package org.lacuna.runtime.schedule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;

/**
 * Chooses, per layer signature, which candidate serves: predicted from each candidate's {@link Work} and the
 * device's {@link EfficiencyTable} (times the correction its kernel earned from earlier measurements); where the best
 * two predictions fall within {@link #margin()} of each other, or a sparse winner has a dense rival, a short,
 * bounded measurement on the real input decides; otherwise the prediction stands. A sparse candidate never stays
 * chosen where a dense one measured faster. Choices are made once per signature (a bucket of input shapes), kept
 * in memory and in the {@link TuningStore} for the next run (written at the end of a plan: {@link #flush()}).
 * Layers keep the decision per input-shape bucket beside the candidate it chose, so a planned forward never comes
 * here; they {@link #charge} the host time they spent choosing, which {@link #choosingNanos()} reports. Thread-safe.
 */
public final class Scheduler {
    /** Predictions within this fraction of the best are too close to call without a measurement. */
    public static final double DEFAULT_MARGIN = 0.25;
    /** Timed calls per measured candidate (after one untimed warm-up call of every candidate), at most. */
    public static final int SAMPLES = 3;
    /**
     * How {@link #measure(List, List)} measures, stored with each measured choice: a stored choice measured another
     * way (one candidate after the other, before rounds) is measured again.
     */
    public static final String MEASURING = "interleaved-rounds";
    /** The time one candidate's measurement may take before it stops at the samples it has (at least one). */
    public static final double DEFAULT_BUDGET_MILLIS = 200;

    private final DeviceKey device;
    private final EfficiencyTable table;
    private final TuningStore store;
    private final Policy policy;
    private final Supplier<DeviceTimer> timers;
    private final double margin;
    private final double budgetMillis;
    private final Map<String, Decision> decisions = new ConcurrentHashMap<>();
    private final Map<String, Double> corrections = new ConcurrentHashMap<>();
    private final Map<String, Plan.Entry> plan = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
    /** Host time the layers spent choosing under this scheduler: deciding, and looking their plans up. */
    private final java.util.concurrent.atomic.LongAdder choosingNanos = new java.util.concurrent.atomic.LongAdder();
    /** Calls of {@link #decide}: a layer asks once per input-shape bucket, never on a planned forward. */
    private final java.util.concurrent.atomic.LongAdder asked = new java.util.concurrent.atomic.LongAdder();

    public Scheduler(DeviceKey device, EfficiencyTable table, TuningStore store, Policy policy,
                     Supplier<DeviceTimer> timers) {
        this(device, table, store, policy, timers, DEFAULT_MARGIN, DEFAULT_BUDGET_MILLIS);
    }

    public Scheduler(DeviceKey device, EfficiencyTable table, TuningStore store, Policy policy,
                     Supplier<DeviceTimer> timers, double margin, double budgetMillis) {
        this.device = Objects.requireNonNull(device, "device");
        this.table = Objects.requireNonNull(table, "table");
        this.store = Objects.requireNonNull(store, "store");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.timers = Objects.requireNonNull(timers, "timers");
        if (!(margin >= 0) || !(budgetMillis > 0)) {
            throw InvalidInputException.argument("Scheduler", "margin must be >= 0 and the budget positive");
        }
        this.margin = margin;
        this.budgetMillis = budgetMillis;
        // A store written by an older build (or after a wild measurement) may hold corrections outside today's bounds.
        store.corrections(device).forEach((kernel, c) -> this.corrections.put(kernel, boundedCorrection(c)));
    }

    /**
     * Bounds on what measurements may teach: one kernel-wide factor per kernel, so a single noisy measurement (a
     * busy machine, a cold JIT) must not make a kernel look many times slower on every shape for good. A step moves
     * a correction by at most {@link #CORRECTION_STEP}, and a correction stays within [1 / {@link #CORRECTION_LIMIT},
     * {@link #CORRECTION_LIMIT}]; beyond that the efficiency table, not the correction, is wrong, and recalibrating
     * is the fix.
     */
    static final double CORRECTION_STEP = 1.25;
    static final double CORRECTION_LIMIT = 2.0;

    static double boundedCorrection(double c) {
        if (!Double.isFinite(c) || c <= 0) {
            return 1.0;
        }
        return Math.min(CORRECTION_LIMIT, Math.max(1 / CORRECTION_LIMIT, c));
    }

    /** Halfway in log space from {@code old} towards {@code observed}, at most one step, within the limit. */
    static double correctionStep(double old, double observed) {
        double halfway = Math.sqrt(old * observed);
        double stepped = Math.min(old * CORRECTION_STEP, Math.max(old / CORRECTION_STEP, halfway));
        return boundedCorrection(stepped);
    }

    public Policy policy() {
        return policy;
    }

    public DeviceKey device() {
        return device;
    }

    public EfficiencyTable efficiency() {
        return table;
    }

    public TuningStore store() {
        return store;
    }

    public double margin() {
        return margin;
    }

    /**
     * The decision for layer {@code layer} on an input with {@code statistics}: made now if its signature is new
     * (measuring candidates on the current input as the policy asks: each measured candidate runs into the layer's
     * output, so the caller must run the chosen one afterwards), else the one already made. Candidates must have
     * distinct names.
     */
    public Decision decide(String layer, LayerStatistics statistics, List<Candidate> candidates) {
        if (candidates.isEmpty()) {
            throw InvalidInputException.argument("Scheduler.decide", layer + " offers no candidate");
        }
        asked.increment();
        String key = key(statistics, candidates);
        Decision decision = decisions.get(key);
        if (decision == null) {
            // One decision per key even when several threads ask at once: a measurement must not race itself.
            synchronized (this) {
                decision = decisions.get(key);
                if (decision == null) {
                    decision = choose(key, statistics, candidates);
                    decisions.put(key, decision);
                }
            }
        }
        plan.putIfAbsent(layer + "@" + decision.signature(), new Plan.Entry(layer, decision));
        return decision;
    }

    /** The candidate {@code decision} chose, among {@code candidates} (the same set it was made from). */
    public static Candidate chosen(Decision decision, List<Candidate> candidates) {
        for (Candidate c : candidates) {
            if (c.name().equals(decision.chosen())) {
                return c;
            }
        }
        throw new IllegalStateException("the decision chose " + decision.chosen() + ", which is not a candidate");
    }

    /**
     * Adds {@code nanos} of host time a layer spent choosing (its plan lookup, or a decision with its measurements)
     * to {@link #choosingNanos()}.
     */
    public void charge(long nanos) {
        choosingNanos.add(nanos);
    }

    /** How many times layers have asked for a decision (once per layer and input-shape bucket). */
    public long decisionsAsked() {
        return asked.sum();
    }

    /** The host time layers have spent choosing under this scheduler so far. */
    public long choosingNanos() {
        return choosingNanos.sum();
    }

    /** Writes the choices made since the last flush to the tuning store's file (a no-op when there are none). */
    public void flush() {
        store.flush();
    }

    /** Every decision made so far, per layer, in the order the layers first ran (the end of a plan: flushes). */
    public Plan plan() {
        flush();
        synchronized (plan) {
            return new Plan(device, policy, table, List.copyOf(plan.values()));
        }
    }

    /** The prediction for {@code candidate}: its kernel's roofline time times the kernel's learnt correction. */
    public double predictMillis(Candidate candidate) {
        return table.seconds(candidate.kernel(), candidate.work()) * 1e3
                * corrections.getOrDefault(candidate.kernel(), 1.0);
    }

    private static String key(LayerStatistics statistics, List<Candidate> candidates) {
        StringBuilder s = new StringBuilder(statistics.signature()).append("|candidates=");
        for (Candidate c : candidates) {
            s.append(c.name()).append(';');
        }
        return s.toString();
    }

    private Decision choose(String key, LayerStatistics statistics, List<Candidate> candidates) {
        long start = System.nanoTime();
        Map<String, Double> predicted = new LinkedHashMap<>();
        for (Candidate c : candidates) {
            if (predicted.put(c.name(), predictMillis(c)) != null) {
                throw InvalidInputException.argument("Scheduler.decide", "two candidates are named " + c.name());
            }
        }
        List<String> names = candidates.stream().map(Candidate::name).toList();
        Optional<String> forced = policy.forcedFor(statistics.kind());
        Outcome outcome;
        if (forced.isPresent() && names.contains(forced.get())) {
            outcome = new Outcome(forced.get(), Decision.Source.FORCED, Map.of(),
                    "forced by the policy (" + policy + ")");
        } else if (candidates.size() == 1) {
            outcome = new Outcome(names.get(0), Decision.Source.ONLY_CANDIDATE, Map.of(),
                    "the only candidate the backend offers for this layer");
        } else {
            outcome = stored(key, names).orElseGet(() -> decideByPolicy(candidates, predicted));
            if (forced.isPresent()) {
                outcome = outcome.withReason("forced " + forced.get() + " is not offered here (candidates " + names
                        + "); " + outcome.reason());
            }
        }
        long nanos = System.nanoTime() - start;
        List<Decision.Estimate> estimates = new ArrayList<>();
        for (Candidate c : candidates) {
            estimates.add(new Decision.Estimate(c.name(), c.kernel(), predicted.get(c.name()),
                    outcome.measured().get(c.name())));
        }
        Decision decision = new Decision(statistics.kind(), statistics.signature(), DescribedStatistics.of(statistics),
                estimates, outcome.chosen(), outcome.source(), outcome.reason(), nanos);
        remember(key, decision, names, predicted, outcome);
        return decision;
    }

    private record Outcome(String chosen, Decision.Source source, Map<String, Double> measured, String reason) {
        Outcome withReason(String r) {
            return new Outcome(chosen, source, measured, r);
        }
    }

    private Optional<Outcome> stored(String key, List<String> names) {
        if (policy.mode() == Policy.Mode.PREDICTED_ONLY) {
            return Optional.empty();
        }
        return store.choice(device, key)
                .filter(c -> names.equals(c.candidates()) && names.contains(c.chosen()))
                // A choice measured one candidate after the other may have charged the JIT's warm-up to the first.
                .filter(c -> c.source() != Decision.Source.MEASURED || MEASURING.equals(c.measuring()))
                .filter(c -> policy.mode() == Policy.Mode.AUTO
                        || Policy.Mode.FASTEST_MEASURED.label().equals(c.policy()))
                .map(c -> new Outcome(c.chosen(), Decision.Source.STORED,
                        c.measuredMillis() == null ? Map.of() : c.measuredMillis(),
                        "stored " + c.recorded() + " by policy " + c.policy() + " (" + c.source() + ")"));
    }

    private Outcome decideByPolicy(List<Candidate> candidates, Map<String, Double> predicted) {
        List<Candidate> byPrediction = new ArrayList<>(candidates);
        byPrediction.sort(Comparator.comparingDouble(c -> predicted.get(c.name())));
        Candidate best = byPrediction.get(0);
        double bestMillis = predicted.get(best.name());
        List<Candidate> toMeasure = new ArrayList<>();
        String why;
        switch (policy.mode()) {
            case PREDICTED_ONLY -> {
                return new Outcome(best.name(), Decision.Source.PREDICTED, Map.of(), predictionReason(byPrediction,
                        predicted, "the policy never measures"));
            }
            case FASTEST_MEASURED -> {
                toMeasure.addAll(byPrediction);
                why = "the policy measures every candidate";
            }
            default -> {
                for (Candidate c : byPrediction) {
                    if (predicted.get(c.name()) <= bestMillis * (1 + margin)) {
                        toMeasure.add(c);
                    }
                }
                why = String.format(Locale.ROOT, "predictions within %.0f%% of the best", margin * 100);
                if (!best.dense()) {
                    byPrediction.stream().filter(Candidate::dense).findFirst().filter(d -> !toMeasure.contains(d))
                            .ifPresent(toMeasure::add);
                    why += "; a sparse winner is confirmed against the best dense candidate";
                }
            }
        }
        toMeasure.removeIf(c -> !c.runnable());
        if (toMeasure.size() < 2) {
            return new Outcome(best.name(), Decision.Source.PREDICTED, Map.of(), predictionReason(byPrediction,
                    predicted, toMeasure.isEmpty() && policy.mode() == Policy.Mode.FASTEST_MEASURED
                            ? "no candidate can run here" : "outside the margin"));
        }
        List<String> failures = new ArrayList<>();
        Map<String, Double> measured = measure(toMeasure, failures);
        if (measured.isEmpty()) {
            return new Outcome(best.name(), Decision.Source.PREDICTED, Map.of(),
                    "every measurement failed (" + failures + "); the prediction stands");
        }
        String winner = measured.entrySet().stream().min(Map.Entry.comparingByValue()).orElseThrow().getKey();
        StringBuilder reason = new StringBuilder("measured (").append(why).append("): ");
        measured.forEach((n, ms) -> reason.append(String.format(Locale.ROOT, "%s %.3f ms, ", n, ms)));
        reason.setLength(reason.length() - 2);
        reason.append(" -> ").append(winner);
        if (!winner.equals(best.name())) {
            reason.append(" (the prediction favoured ").append(best.name()).append(')');
        }
        if (!failures.isEmpty()) {
            reason.append("; failed: ").append(failures);
        }
        return new Outcome(winner, Decision.Source.MEASURED, measured, reason.toString());
    }

    private String predictionReason(List<Candidate> byPrediction, Map<String, Double> predicted, String why) {
        Candidate best = byPrediction.get(0);
        Candidate next = byPrediction.get(1);
        return String.format(Locale.ROOT, "predicted %s %.3f ms, next %s %.3f ms (%.2fx); %s", best.name(),
                predicted.get(best.name()), next.name(), predicted.get(next.name()),
                predicted.get(next.name()) / Math.max(1e-12, predicted.get(best.name())), why);
    }

    /**
     * The median of up to {@link #SAMPLES} timed calls per candidate, in milliseconds, in measuring order; a candidate
     * that cannot run here (a library missing, a shape it refuses) drops out into {@code failures}. Every candidate
     * runs once untimed before any is timed, and the timed calls go in rounds, one call of each candidate per round,
     * the order reversed every other round: code the candidates share (an epilogue, a conversion) is still being
     * compiled during the first calls of a fresh JVM, and timing one candidate's calls all before the next's charged
     * that to whichever came first (a GELU epilogue still interpreted made OpenBLAS measure 64 ms beside the Java GEMM's
     * 4 ms at 128 × 384 × 1536, and the stored choice kept the 3x slower GEMM). Rounds stop once the measurement has
     * spent the budget of every candidate in it, each with at least one sample.
     */
    private Map<String, Double> measure(List<Candidate> candidates, List<String> failures) {
        List<Candidate> running = new ArrayList<>();
        double spent = 0;
        try (DeviceTimer timer = timers.get()) {
            for (Candidate c : candidates) {
                try {
                    timer.start();
                    c.run().run();
                    spent += timer.stopMillis();
                    running.add(c);
                } catch (LacunaException e) {
                    failures.add(c.name() + ": " + e.getMessage());
                }
            }
            double[][] samples = new double[running.size()][SAMPLES];
            double budget = budgetMillis * running.size();
            int rounds = 0;
            while (rounds < SAMPLES && !running.isEmpty() && (rounds == 0 || spent < budget)) {
                for (int k = 0; k < running.size(); k++) {
                    int i = rounds % 2 == 0 ? k : running.size() - 1 - k;
                    timer.start();
                    running.get(i).run().run();
                    samples[i][rounds] = timer.stopMillis();
                    spent += samples[i][rounds];
                }
                rounds++;
            }
            Map<String, Double> medians = new LinkedHashMap<>();
            for (int i = 0; i < running.size(); i++) {
                double[] taken = Arrays.copyOf(samples[i], rounds);
                Arrays.sort(taken);
                medians.put(running.get(i).name(), taken[rounds / 2]);
            }
            return medians;
        }
    }

    private void remember(String key, Decision decision, List<String> names, Map<String, Double> predicted,
                          Outcome outcome) {
        Map<String, Double> learnt = new LinkedHashMap<>();
        if (decision.source() == Decision.Source.MEASURED) {
            for (Decision.Estimate e : decision.candidates()) {
                if (e.measuredMillis() != null && e.predictedMillis() > 0) {
                    // A bounded step towards this measurement: one outlier cannot swing later predictions.
                    // One atomic update of the kernel's entry: it does not rely on the caller's lock.
                    double ratio = e.measuredMillis() / e.predictedMillis();
                    double updated = corrections.compute(e.kernel(), (kernel, old) -> {
                        double current = old == null ? 1.0 : old;
                        return correctionStep(current, current * ratio);
                    });
                    learnt.put(e.kernel(), updated);
                }
            }
        }
        boolean storable = switch (decision.source()) {
            case MEASURED, PREDICTED -> policy.mode() != Policy.Mode.PREDICTED_ONLY;
            default -> false;
        };
        if (storable) {
            store.putChoice(device, key, new TuningStore.StoredChoice(decision.chosen(), policy.mode().label(),
                    decision.source(), names, predicted, outcome.measured().isEmpty() ? null : outcome.measured(),
                    TuningStore.now(), decision.source() == Decision.Source.MEASURED ? MEASURING : null), learnt);
        }
    }

    /** The corrections learnt so far, per kernel (measured over predicted time). */
    public Map<String, Double> corrections() {
        return Map.copyOf(corrections);
    }
}

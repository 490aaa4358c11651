package org.lacuna.runtime.schedule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;

/**
 * Chooses, per layer signature, which candidate serves: predicted from each candidate's {@link Work} and the
 * device's {@link EfficiencyTable} (times the correction its kernel earned from earlier measurements); where the best
 * two predictions fall within {@link #margin()} of each other, or the backend has several dense paths (their order
 * at small calls is what the table misjudges), a measurement on the real input decides, every dense path measured
 * beside whatever else is (a sparse candidate is confirmed against all of them); otherwise the prediction stands.
 * A layer that can serve its calls with any candidate asks {@link #decideLive}: the measurement is then made on its
 * own live calls ({@link LiveTrial}: the candidates serve in turn, each call a timed sample that also produced the
 * real output, so choosing costs only the slower candidates' extra time, {@link #trialExtraNanos()}); a layer that
 * cannot asks {@link #decide}, which measures before its call (interleaved rounds, lower medians, bounded by a budget
 * relative to the predicted call: {@link #measuringBudgetMillis}). Under {@code auto} a measurement overrides the
 * prediction only by a clear difference ({@link #MIN_GAIN}), and a sparse candidate never stays chosen where a dense
 * one measured faster. Choices are made once per signature (a bucket of input shapes), kept in memory and in the
 * {@link TuningStore} for the next run (written at the end of a plan: {@link #flush()}). Layers keep the decision per
 * input-shape bucket beside the candidate it chose, so a planned forward never comes here; they {@link #charge} the
 * host time they spent choosing, which {@link #choosingNanos()} reports.
 *
 * <p>Under {@code auto}, what choosing costs is bounded by a budget, a fraction ({@link #DEFAULT_TRIAL_BUDGET}) of the
 * predicted forward: the deciding sections' CPU time (predictions, plans, the store, a measurement before a call) and
 * what live trials cost (their slower calls, the weight conversions of candidates tried, their bookkeeping), counted
 * as the benchmark reports it (every layer's calls beyond the decision's winner: {@link LiveTrial}), with what calls
 * under way are expected to spend and what started candidates' samples will spend reserved, so that trials deciding
 * in one forward do not each spend the same remainder: a candidate a trial cannot afford is not tried, and the trial
 * decides on what it measured, for good (a later process's re-check would face the same budget), but for the
 * best-predicted candidate cut before a sample whose prediction beats what was measured, which serves until measured
 * ({@link LiveTrial#confirmPrediction}). In a model's first forward under a scheduler, whose share is still unknown
 * while its layers plan, a trial whose best-predicted candidate is a dense path waits for the forward to end, the
 * prediction serving; it then starts where the budget affords another candidate a start, and otherwise decides on the
 * prediction for good ({@link #forwardStarting()}, {@link #flushLater()}). A choice whose
 * trial ended on its own rules with samples short (a runner-up eliminated on one sample and none other measured, a
 * sparse winner not confirmed against a dense path), or that beat a Java kernel timed while the JIT compiled where
 * the budget leaves no warm re-try (which may take {@link #WARM_RETRY_BUDGET_SHARES} shares), is stored
 * provisional: the sessions of this JVM share it as any other, and the next process re-checks it on a short trial of
 * the chosen candidate and the runner-up, then stores it confirmed ({@link LiveTrial}); a re-check asked for while the
 * JIT compiles waits for it to go quiet, the stored choice serving meanwhile. Thread-safe.
 */
public final class Scheduler {
    /**
     * Predictions within this fraction of the best are too close to call without a measurement. Wide: the CPU table
     * misjudged its two dense paths' order at small calls by up to 1.8x on the development machine (a calibration on
     * a busy machine), and a live trial costs little more than its losers' first calls (a clear loser is dropped
     * after {@link LiveTrial#MIN_SAMPLES} samples).
     */
    public static final double DEFAULT_MARGIN = 1.0;
    /** Timed rounds of one measurement (each calls every measured candidate once, after a warm-up), at most. */
    public static final int ROUNDS = 5;
    /** Timed rounds of one measurement, at least, however small its budget. */
    public static final int MIN_ROUNDS = 2;
    /**
     * How {@link #measure} measures, stored with each measured choice: a stored choice measured another way (one
     * candidate after the other, before rounds) is measured again.
     */
    public static final String MEASURING = "interleaved-rounds-2";
    /** How a {@link LiveTrial} measures: on the layers' own calls, every dense path beside a sparse candidate. */
    public static final String LIVE_MEASURING = "live-calls";
    /**
     * When one decision's measurement stops starting rounds ({@code fastest-measured}: per candidate). The warm-up
     * call and {@link #MIN_ROUNDS} rounds are made whatever they cost, so a slow layer may run past it.
     */
    public static final double DEFAULT_BUDGET_MILLIS = 200;
    /** An {@code auto} measurement's budget: this many predicted calls of each candidate it measures... */
    public static final double BUDGET_PER_PREDICTED_CALL = 8;
    /** ...but at least this long. */
    public static final double MIN_BUDGET_MILLIS = 1;
    /**
     * Under {@code auto}, a candidate other than the best-predicted one must measure at least this fraction faster
     * to be chosen (a dense one against a sparse prediction needs only to be faster: break-even).
     */
    public static final double MIN_GAIN = 0.05;
    /**
     * Under {@code auto}, what choosing may spend, all together, as a fraction of the predicted forward (the sum of
     * every layer's best prediction: {@link #predictedForwardMillis()}, corrected by what the trials measure:
     * {@link #estimatedForwardMillis()}): what live trials spend beyond the best candidate so far, and the CPU time
     * of the deciding itself ({@link #choosingSpentMillis()}), so that a cold store's choosing costs less than one
     * forward. What a trial cannot afford it does not measure; it decides on what it has ({@link LiveTrial}). Under
     * half: the budget is kept in CPU time against an estimate that cold samples inflate, where the report counts the
     * wall time against the forward's warm median; at 1 x 32 tokens on the 2-vCPU AMD EPYC a budget of 0.5 (4.08 of
     * an estimated 8.16 ms) let choosing cost 1.16x the 5.3 ms forward, its host wall time 1.6x its CPU time (ad hoc,
     * 23:33).
     */
    public static final double DEFAULT_TRIAL_BUDGET = 0.3;
    /**
     * A warm re-trial of a choice measured while the JIT compiled is opened where what choosing has committed and the
     * re-trial's expected cost fit in this many times the trial budget: a second share of the forward. In this process
     * it costs the slower candidate's extra time over a few calls, its weight converted and its code compiled; left to
     * the next process as a re-check it pays the conversions and the first calls again there (at 4 x 128 tokens two
     * re-checks cost that process 46 ms of calls over 17 forwards, 1.17x its forward:
     * bench/results/schedule-cpu-20261207-0208.md). Not more: at 1 x 32 tokens the deciding CPU time alone takes most
     * of the two shares, and a re-trial of two-four (1.4 ms beside a 4.3 ms forward, ad hoc at 23:30 on the AMD EPYC)
     * would take a cold store's choosing past a forward.
     */
    public static final double WARM_RETRY_BUDGET_SHARES = 2;
    /**
     * Re-checks of a provisional choice that the trial budget may cut before both candidates have a sample, each
     * leaving the choice as it was, before the choice is stored confirmed: where the budget is too small for the
     * runner-up's first calls (a fresh JVM's at 1 x 32 tokens), every process would otherwise pay a cut re-check.
     */
    public static final int MAX_CUT_RECHECKS = 2;

    /**
     * Ends the reason of an earlier process's provisional choice that serves as stored while its re-check waits for
     * the JIT to go quiet ({@link #flushLater()}).
     */
    public static final String RECHECK_HELD = "re-checked once the JIT is quiet";

    /** Ends the reason of a decision that re-checked an earlier process's provisional choice. */
    public static final String CONFIRMED_BY_RECHECK = "confirmed by this re-check";
    /**
     * Ends the reason of a stored provisional choice an earlier process made that this one confirmed without a
     * re-check: the prediction agrees with it and the runner-up was measured slower ({@link #confirmedByPrediction}).
     */
    public static final String CONFIRMED_BY_PREDICTION = "confirmed by the prediction, no re-check";

    private final DeviceKey device;
    private final EfficiencyTable table;
    private final TuningStore store;
    private final Policy policy;
    private final Supplier<DeviceTimer> timers;
    private final double margin;
    private final double budgetMillis;
    private final double trialBudget;
    // The counters that only deciding touches are AtomicLongs: a LongAdder's update goes through a VarHandle, dear in
    // the interpreted code a cold store's first forward runs (planned forwards touch only the LongAdders below).
    /** The sum of every planned layer's best prediction, ns: the forward a trial budget is a fraction of. */
    private final AtomicLong predictedForwardNanos = new AtomicLong();
    /** The trials' layers' best predictions and best lower medians so far ({@link #forwardScale()}), ns. */
    private final AtomicLong sampledPredictedNanos = new AtomicLong();
    private final AtomicLong sampledMeasuredNanos = new AtomicLong();
    /** The most {@link #forwardScale()} corrects the predicted forward by. */
    public static final double MAX_FORWARD_SCALE = 4;
    /** What live trials have spent beyond their best candidate so far, ns. */
    private final AtomicLong trialSpentNanos = new AtomicLong();
    /** The host time live trials' calls spent on bookkeeping ({@link #chargeTrial}), and how many calls reported. */
    private final AtomicLong trialBookkeepingNanos = new AtomicLong();
    /** The part of {@link #trialBookkeepingNanos} charged as the thread's CPU time (also in the choosing CPU time). */
    private final AtomicLong trialBookkeepingCpuNanos = new AtomicLong();
    private final AtomicLong trialCalls = new AtomicLong();
    /**
     * What live trials' calls under way are expected to spend (reserved by the trial that approved them), and what
     * started candidates' samples still to come will (pledged when they started), ns.
     */
    private final AtomicLong trialReservedNanos = new AtomicLong();
    private final Map<String, Decision> decisions = new ConcurrentHashMap<>();
    private final Map<String, LiveTrial> trials = new ConcurrentHashMap<>();
    /**
     * Trials that wait for the JIT to go quiet, by key, each decided meanwhile: those that judged a Java kernel on
     * calls made while it compiled (re-opened to re-try warm), and re-checks of an earlier process's provisional
     * choices held while the stored choice serves (opened). Layers of the signature that ask meanwhile join them.
     */
    private final Map<String, LiveTrial> waitingForQuietJit = new ConcurrentHashMap<>();
    /**
     * Trials opened in the scheduler's first forward of a model, held until it ends ({@link #flushLater()}), in the
     * order they opened, by key; each decided meanwhile on its prediction ({@link LiveTrial#holdForTheForward}).
     * Layers of the signature that ask meanwhile join them.
     */
    private final Map<String, LiveTrial> waitingForTheForward =
            java.util.Collections.synchronizedMap(new LinkedHashMap<>());
    /**
     * Whether a model's forward has begun ({@link #forwardStarting()}) and whether one has ended
     * ({@link #flushLater()}, {@link #forwardFailed()}) under this scheduler: its first forward runs between the two.
     */
    private volatile boolean forwardBegun;
    private volatile boolean forwardEnded;
    private final JitWatch jit;
    private final AtomicLong trialExtraNanos = new AtomicLong();
    private final Map<String, Double> corrections = new ConcurrentHashMap<>();
    private final Map<PlanKey, Plan.Entry> plan = java.util.Collections.synchronizedMap(new LinkedHashMap<>());

    /**
     * A plan entry's key: one per layer and signature (no string built per layer on a warm store's forward). Equality
     * and hash written out: a record's generated ones link method handles, dear in the interpreted code a cold
     * store's first forward runs.
     */
    private record PlanKey(String layer, String signature) {
        @Override
        public boolean equals(Object o) {
            return o instanceof PlanKey k && layer.equals(k.layer) && signature.equals(k.signature);
        }

        @Override
        public int hashCode() {
            return 31 * layer.hashCode() + signature.hashCode();
        }
    }
    /** Host time the layers spent choosing under this scheduler: deciding, and looking their plans up. */
    private final LongAdder choosingNanos = new LongAdder();
    /** The choosing threads' CPU time in the sections that decide ({@link #chargeCpu}). */
    private final LongAdder choosingCpuNanos = new LongAdder();
    /** Calls of {@link #decide}: a layer asks once per input-shape bucket, never on a planned forward. */
    private final AtomicLong asked = new AtomicLong();
    /** Decisions made (not found among those already made): one per signature and candidate set. */
    private final AtomicLong made = new AtomicLong();

    public Scheduler(DeviceKey device, EfficiencyTable table, TuningStore store, Policy policy,
                     Supplier<DeviceTimer> timers) {
        this(device, table, store, policy, timers, DEFAULT_MARGIN, DEFAULT_BUDGET_MILLIS);
    }

    public Scheduler(DeviceKey device, EfficiencyTable table, TuningStore store, Policy policy,
                     Supplier<DeviceTimer> timers, double margin, double budgetMillis) {
        this(device, table, store, policy, timers, margin, budgetMillis, DEFAULT_TRIAL_BUDGET);
    }

    /**
     * @param trialBudget what choosing may spend (deciding CPU time and live trials beyond their best candidates), as a
     *                    fraction of the predicted forward
     *                    ({@link #DEFAULT_TRIAL_BUDGET}; infinite: no bound)
     */
    public Scheduler(DeviceKey device, EfficiencyTable table, TuningStore store, Policy policy,
                     Supplier<DeviceTimer> timers, double margin, double budgetMillis, double trialBudget) {
        this(device, table, store, policy, timers, margin, budgetMillis, trialBudget, JitWatch.system());
    }

    /**
     * @param jit whether the JIT is still compiling ({@link JitWatch#system()}; tests inject their own): a live trial
     *            that judged a Java kernel on calls made while it compiled is re-tried once it is quiet
     */
    public Scheduler(DeviceKey device, EfficiencyTable table, TuningStore store, Policy policy,
                     Supplier<DeviceTimer> timers, double margin, double budgetMillis, double trialBudget,
                     JitWatch jit) {
        this.jit = Objects.requireNonNull(jit, "jit");
        this.device = Objects.requireNonNull(device, "device");
        this.table = Objects.requireNonNull(table, "table");
        this.store = Objects.requireNonNull(store, "store");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.timers = Objects.requireNonNull(timers, "timers");
        if (!(margin >= 0) || !(budgetMillis > 0) || !(trialBudget >= 0)) {
            throw InvalidInputException.argument("Scheduler", "margin and trial budget must be >= 0 and the budget "
                    + "positive");
        }
        this.trialBudget = trialBudget;
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
        String signature = statistics.signature();
        String key = askedKey(layer, signature, candidates);
        Decision decision = decisions.get(key);
        if (decision == null) {
            // One decision per key even when several threads ask at once: a measurement must not race itself, nor
            // another session's on the same store (which then finds this one's choice stored).
            synchronized (store.decisionLock()) {
                decision = decisions.get(key);
                if (decision == null) {
                    decision = (Decision) choose(key, signature, statistics, candidates, false);
                    decisions.put(key, decision);
                    made.incrementAndGet();
                }
            }
        }
        return planned(layer, decision);
    }

    /**
     * Counts a layer's question and returns its key; a layer with nothing to choose from is refused. The statistics'
     * {@code signature} is made once per question and passed along (it formats numbers: dear in interpreted code).
     */
    private String askedKey(String layer, String signature, List<Candidate> candidates) {
        if (candidates.isEmpty()) {
            throw InvalidInputException.argument("Scheduler.decide", layer + " offers no candidate");
        }
        asked.incrementAndGet();
        return key(signature, candidates);
    }

    /** Records {@code decision} (decided or provisional) as {@code layer}'s plan entry for its signature. */
    private Decision planned(String layer, Decision decision) {
        if (plan.putIfAbsent(new PlanKey(layer, decision.signature()), new Plan.Entry(layer, decision)) == null) {
            double best = Double.MAX_VALUE;
            for (Decision.Estimate e : decision.candidates()) {
                best = Math.min(best, e.predictedMillis());
            }
            if (best < Double.MAX_VALUE && best > 0) {
                predictedForwardNanos.addAndGet(Math.round(best * 1e6));
            }
        }
        return decision;
    }

    /** The predicted forward: every planned layer's best prediction (each layer and signature once), ms. */
    public double predictedForwardMillis() {
        return predictedForwardNanos.get() / 1e6;
    }

    /**
     * The predicted forward as the live trials' measurements correct it ({@link #forwardScale()}): the forward a
     * trial budget is a share of, ms.
     */
    public double estimatedForwardMillis() {
        return predictedForwardMillis() * forwardScale();
    }

    /**
     * How much slower than predicted the trials' layers have run so far: per trial, its layers' best lower median
     * over their best prediction ({@link LiveTrial}), summed over trials, within [1, {@link #MAX_FORWARD_SCALE}];
     * 1 before any sample. A table that underrates the device at a call size (calibrated on a busy machine, or on
     * another epilogue: at 1 x 32 tokens the encoder's linears ran 1.7-2.3x their predictions,
     * bench/results/schedule-cpu-20261206-1713.md) would otherwise make the budget a share of a forward much shorter
     * than the real one and cut the candidates whose order it misjudges; where the table overrates the device the
     * prediction stands (a stricter budget).
     */
    public double forwardScale() {
        long predicted = sampledPredictedNanos.get();
        if (predicted <= 0) {
            return 1;
        }
        return Math.min(MAX_FORWARD_SCALE, Math.max(1, sampledMeasuredNanos.get() / (double) predicted));
    }

    /** A live trial's layers' best prediction and best lower median moved by these amounts (ms). */
    void forwardSampled(double predictedMillis, double measuredMillis) {
        sampledPredictedNanos.addAndGet(Math.round(predictedMillis * 1e6));
        sampledMeasuredNanos.addAndGet(Math.round(measuredMillis * 1e6));
    }

    /**
     * What choosing may spend, all together, before live trials stop serving candidates other than their best so far:
     * a share of the forward. The deciding sections' CPU time draws from it too ({@link #trialCommittedMillis()}).
     */
    public double trialBudgetMillis() {
        return Double.isInfinite(trialBudget) ? Double.POSITIVE_INFINITY : trialBudget * estimatedForwardMillis();
    }

    /** What live trials have spent beyond their best candidates so far (conversions on first calls included). */
    public double trialSpentMillis() {
        return trialSpentNanos.get() / 1e6;
    }

    /** A live trial's call cost {@code millis} beyond its best candidate so far. */
    void spend(double millis) {
        trialSpentNanos.addAndGet(Math.round(millis * 1e6));
    }

    /** Reserves (a negative amount: releases) what a live trial's call under way is expected to spend, ms. */
    void reserve(double millis) {
        trialReservedNanos.addAndGet(Math.round(millis * 1e6));
    }

    /**
     * What choosing has spent so far, ms: the live trials' calls beyond their best candidates so far (conversions on
     * first calls included) and their bookkeeping, and the CPU time the layers' deciding sections took besides (the
     * predictions, the plans, the store, a measurement made before a call: {@link #chargeCpu}; where the JVM does not
     * measure a thread's CPU time, the trials' part alone). What the report counts as choosing, in CPU rather than wall time (the wall time also holds
     * what the JIT's compilers took of the core meanwhile, which stopping a trial would not save).
     */
    public double choosingSpentMillis() {
        long deciding = Math.max(0, choosingCpuNanos.sum() - trialBookkeepingCpuNanos.get());
        return (trialSpentNanos.get() + deciding) / 1e6;
    }

    /**
     * What choosing has spent ({@link #choosingSpentMillis()}), plus what trials' calls under way and started
     * candidates' samples still to come are expected to spend, ms: a trial's next call must fit beside it in
     * {@link #trialBudgetMillis()}. The deciding sections' own
     * time counts: at 1 x 32 tokens a cold store's first forward spent 3.9 ms of CPU deciding beside a 5.0 ms forward
     * (bench/results/schedule-cpu-20261206-2229.md), so a budget for the trials' calls alone let choosing cost twice a
     * forward.
     */
    double trialCommittedMillis() {
        return choosingSpentMillis() + trialReservedNanos.get() / 1e6;
    }

    /**
     * Host time a layer spent on a live trial's bookkeeping around a call (which candidate serves, timing it,
     * reporting it, the decision its report completed): spent from the trial budget like the slower calls, so that
     * what trials cost in all stays within it. Layers {@link #charge} it as choosing as well, and pass the calling
     * thread's CPU time here where the JVM measures it (what the bookkeeping ran, not what other threads took of its
     * core meanwhile).
     */
    public void chargeTrial(long nanos) {
        chargeTrial(nanos, false);
    }

    /**
     * {@link #chargeTrial(long)}, saying whether {@code nanos} is the thread's CPU time, which the layer also
     * {@link #chargeCpu charged} (so that {@link #choosingSpentMillis()} counts it once), or wall time where the JVM
     * does not measure the thread's CPU time.
     */
    public void chargeTrial(long nanos, boolean cpuTime) {
        trialSpentNanos.addAndGet(nanos);
        trialBookkeepingNanos.addAndGet(nanos);
        if (cpuTime) {
            trialBookkeepingCpuNanos.addAndGet(nanos);
        }
    }

    /** A live trial's call was reported (for {@link #trialBookkeepingMillisPerCall()}). */
    void countTrialCall() {
        trialCalls.incrementAndGet();
    }

    /** The host time of a live trial call's bookkeeping, on average over the calls so far (0 before any), ms. */
    double trialBookkeepingMillisPerCall() {
        long calls = trialCalls.get();
        return calls == 0 ? 0 : trialBookkeepingNanos.get() / 1e6 / calls;
    }

    /**
     * Like {@link #decide}, for a layer that can serve its real calls with any of {@code candidates}: where the policy
     * would measure, nothing runs here; the returned {@link LiveTrial} says which candidate serves each of the
     * layer's next calls, takes their times, and decides once it has enough ({@link LiveTrial#decision()}). Layers
     * of one signature share the trial. Elsewhere (a stored, predicted, forced or only candidate) the trial returned
     * is decided already, and so is a re-check held until the JIT is quiet (its stored choice serves until then). The
     * candidates' {@code run} is never called.
     */
    public LiveTrial decideLive(String layer, LayerStatistics statistics, List<Candidate> candidates) {
        String signature = statistics.signature();
        String key = askedKey(layer, signature, candidates);
        // A trial waiting (for a quiet JIT, or for the first forward's end) is read before the decisions, and is put
        // there first and taken out last (complete, retryWarm, startTrialsHeldForTheForward): a layer asking meanwhile
        // joins it rather than keep its decision alone.
        LiveTrial waiting = waiting(key);
        Decision decision = decisions.get(key);
        // A decision found with no waiting trial read before it may be a held one put meanwhile (its trial was put
        // first): read again, so the layer joins it rather than keep a held decision for good.
        LiveTrial trial = decision == null ? trials.get(key) : waiting != null ? waiting : waiting(key);
        if (decision == null && trial == null) {
            synchronized (store.decisionLock()) {
                decision = decisions.get(key);
                trial = decision == null ? trials.get(key) : waiting(key);
                if (decision == null && trial == null) {
                    Object chosen = choose(key, signature, statistics, candidates, true);
                    made.incrementAndGet();
                    if (chosen instanceof LiveTrial t && t.decision() != null) {
                        // Held, decided meanwhile: a re-check until the JIT is quiet (the stored choice), a trial of
                        // the first forward until it ends (the prediction).
                        trial = t;
                        (t.heldForTheForward() ? waitingForTheForward : waitingForQuietJit).put(key, t);
                        decisions.put(key, t.decision());
                    } else if (chosen instanceof LiveTrial t) {
                        trial = t;
                        trials.put(key, t);
                    } else {
                        decision = (Decision) chosen;
                        decisions.put(key, decision);
                    }
                }
            }
        }
        if (trial != null) {
            trial.joined(layer);
            planned(layer, trial.decisionOrProvisional());
            return trial;
        }
        return LiveTrial.decided(planned(layer, decision));
    }

    /** A trial that waits, decided meanwhile, to be started or re-opened ({@link #flushLater()}); else null. */
    private LiveTrial waiting(String key) {
        LiveTrial t = waitingForTheForward.get(key);
        return t != null ? t : waitingForQuietJit.get(key);
    }

    /**
     * Signatures whose live trials are still taking samples, or whose decision waits for the first forward to end or
     * for the JIT to go quiet to be started, re-tried warm or re-checked ({@link #flushLater()}).
     */
    public int deciding() {
        return trials.size() + waitingForQuietJit.size() + waitingForTheForward.size();
    }

    /**
     * A model's forward begins (its end is {@link #flushLater()}): trials its layers open in the scheduler's first
     * forward wait for that forward to end ({@link LiveTrial#holdForTheForward}). Layers called by themselves, with no
     * model around them, open their trials at once.
     */
    public void forwardStarting() {
        if (!forwardBegun) {
            forwardBegun = true;
        }
    }

    /**
     * A model's forward failed before its end ({@link #flushLater()} not reached): it counts as ended, so a later
     * forward's trials do not wait for it, but the trials held through it stay held until a forward ends whole: the
     * budget, a share of the forward its layers predicted, would otherwise be sized from the layers that ran before
     * the failure, and a trial decided on it is stored for good.
     */
    public void forwardFailed() {
        forwardEnded = true;
    }

    /** Whether a model's first forward under this scheduler is running (begun, none ended yet). */
    private boolean inFirstForward() {
        return forwardBegun && !forwardEnded;
    }

    JitWatch jitWatch() {
        return jit;
    }

    /** Forwards {@link #runUntilDecided} runs at most unless told otherwise: far more than a trial takes. */
    public static final int MAX_DECIDING_FORWARDS = 40;

    /**
     * Runs {@code forward} (a model's forward on one input, under this scheduler) once, then again while live trials
     * are still deciding on its layers' calls, {@code maxForwards} times at most, and past that for up to
     * {@link #MAX_WARM_RETRY_WAIT_NANOS} more while a warm re-trial or a re-check runs; while decisions only wait for
     * the JIT to go quiet to be re-tried warm or re-checked, for up to {@link #MAX_WARM_RETRY_WAIT_NANOS} of that wait
     * (where it never goes quiet, the choice stays provisional, served as stored): how a plan is made
     * where layers decide on their live calls. Returns the forwards run; {@link #deciding()} says whether they were
     * enough.
     */
    public int runUntilDecided(Runnable forward, int maxForwards) {
        return runUntilDecided(forward, maxForwards, MAX_WARM_RETRY_WAIT_NANOS);
    }

    /**
     * {@link #runUntilDecided(Runnable, int)}, waiting up to {@code maxJitWaitNanos} of wall time for the JIT to go
     * quiet once every trial has decided (forwards bound the wait too): a benchmark that counts a warm re-trial as
     * part of a cold start's choosing passes {@link Long#MAX_VALUE}.
     */
    public int runUntilDecided(Runnable forward, int maxForwards, long maxJitWaitNanos) {
        if (maxForwards < 1) {
            throw InvalidInputException.argument("Scheduler.runUntilDecided", "maxForwards must be >= 1, got "
                    + maxForwards);
        }
        int forwards = 0;
        long waitUntil = 0;
        boolean waiting = false;
        long waitingSince = 0;
        while (true) {
            forward.run();
            forwards++;
            if (!waitingForQuietJit.isEmpty()) {
                // A model's forward asks at its end (flushLater); a forward of plain layers does not.
                retryWarm();
            }
            if (deciding() == 0) {
                return forwards;
            }
            if (trials.isEmpty()) {
                // Every trial has decided and a choice only waits for the JIT to go quiet: that wait is wall time,
                // bounded as such, not by forwards. MinkUNet's 2 s forwards kept the JIT compiling at the end of
                // each for 40 of them, and `lacuna plan --scan` took 80 s on a cold store (ad hoc, 02:25); the
                // choice stays provisional and is re-tried when the JIT goes quiet while serving, or re-checked by
                // the next process.
                long now = jit.now();
                waitingSince = waiting ? waitingSince : now;
                waiting = true;
                if (now - waitingSince >= maxJitWaitNanos) {
                    return forwards;
                }
            } else {
                waiting = false;
            }
            if (forwards >= maxForwards) {
                // A warm re-trial waits for the JIT, which takes wall time, not forwards: at 1 x 32 tokens 40
                // forwards of 5 ms never saw the 250 ms of quiet (ad hoc, the scheduler bench at 22:05).
                if (!warmRetrying()) {
                    return forwards;
                }
                long now = jit.now();
                waitUntil = waitUntil == 0 ? now + MAX_WARM_RETRY_WAIT_NANOS : waitUntil;
                if (now >= waitUntil) {
                    return forwards;
                }
            }
        }
    }

    /**
     * How long {@link #runUntilDecided} runs on while a decision only waits for the JIT to be re-tried warm, and past
     * its forwards while such a re-trial runs.
     */
    public static final long MAX_WARM_RETRY_WAIT_NANOS = 3_000_000_000L;

    /**
     * Whether a decision waits for the JIT to be re-tried warm or re-checked, or such a re-trial or a re-check is
     * taking samples.
     */
    private boolean warmRetrying() {
        if (!waitingForQuietJit.isEmpty()) {
            return true;
        }
        for (LiveTrial t : trials.values()) {
            if (t.warmRetry() || t.recheck()) {
                return true;
            }
        }
        return false;
    }

    /** A timer on the device, for a layer timing a live call of a {@link LiveTrial}. */
    public DeviceTimer timer() {
        return timers.get();
    }

    /**
     * The extra time the live calls of finished trials cost: what the calls served by a candidate other than the one
     * chosen took beyond the chosen one's time. With {@link #choosingNanos()}, what choosing cost.
     */
    public long trialExtraNanos() {
        return trialExtraNanos.get();
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

    /**
     * Adds {@code nanos} of a choosing thread's CPU time, in a section that decides (a decision, a live trial's
     * bookkeeping; its wall time is {@link #charge charged} as well), to {@link #choosingCpuNanos()}.
     */
    public void chargeCpu(long nanos) {
        choosingCpuNanos.add(Math.max(0, nanos));
    }

    /**
     * The CPU time the choosing threads spent in the sections that decide: beside {@link #choosingNanos()}, what
     * choosing itself ran rather than what other threads (the JIT's compilers, the collector) took of its cores
     * meanwhile. A planned lookup (tens of nanoseconds) is in the wall time alone.
     */
    public long choosingCpuNanos() {
        return choosingCpuNanos.sum();
    }

    /** How many times layers have asked for a decision (once per layer and input-shape bucket). */
    public long decisionsAsked() {
        return asked.get();
    }

    /**
     * How many decisions were made rather than found: layers whose statistics fall in the same buckets and offer the
     * same candidates (a model's repeated blocks) share one, so this counts signatures, not layers.
     */
    public long decisionsMade() {
        return made.get();
    }

    /** The host time layers have spent choosing under this scheduler so far. */
    public long choosingNanos() {
        return choosingNanos.sum();
    }

    /** Writes the choices made since the last flush to the tuning store's file now (a no-op when there are none). */
    public void flush() {
        store.flush();
    }

    /** Forwards a write waits for trials still deciding before it is handed over regardless ({@link #flushLater}). */
    static final int MAX_DEFERRED_WRITES = 64;
    /** Forwards whose write waited for a trial since the last hand-over. */
    private final AtomicLong deferredWrites = new AtomicLong();

    /**
     * Has the store's background writer write the choices made since the last write ({@link TuningStore#flushLater}):
     * what a model's forward calls at its end, so that it never waits for the disk (a no-op when there are none).
     * While live trials are still deciding it does nothing, and the forward in which the last one decides hands the
     * write over: on a small machine the writer's first write of a JVM (its JSON machinery, about 140 ms of CPU on
     * the 2-vCPU development machine) took a core from the forwards whose calls the trials were timing and from their
     * bookkeeping (up to 12 ms of a forward's choosing sections on the wall clock, against 0.4 ms of their CPU time;
     * ad hoc). The wait ends after {@link #MAX_DEFERRED_WRITES} forwards all the same: a trial that never decides
     * (its layers no longer called: a shape seen once, a model closed mid-trial) would otherwise hold every later
     * choice back from the file for the scheduler's life, leaving it to {@link #flush()}, a plan, the session's close
     * or the store's shutdown hook, which a killed process never reaches.
     */
    public void flushLater() {
        if (!forwardEnded) {
            forwardEnded = true;
        }
        if (!waitingForTheForward.isEmpty()) {
            startTrialsHeldForTheForward();
        }
        if (!waitingForQuietJit.isEmpty()) {
            retryWarm();
        }
        for (LiveTrial trial : trials.values()) {
            trial.forwardEnded();
        }
        if (trials.isEmpty() || deferredWrites.incrementAndGet() > MAX_DEFERRED_WRITES) {
            deferredWrites.set(0);
            store.flushLater();
        }
    }

    /**
     * Once the JIT is quiet, re-opens the trials decided against Java kernels measured while it compiled, and starts
     * the re-checks held meanwhile ({@link LiveTrial#reopenWarm}): their layers serve the candidates in turn (again)
     * from their next call. Asked at
     * the end of a forward ({@link #flushLater()}), so the JIT's state is read at most once per forward, and only
     * while a re-trial waits.
     */
    private void retryWarm() {
        if (jit.compiling()) {
            return;
        }
        synchronized (store.decisionLock()) {
            for (LiveTrial trial : waitingForQuietJit.values()) {
                trial.reopenWarm();
                open(trial, waitingForQuietJit);
            }
        }
    }

    /**
     * Moves {@code trial}, which waited in {@code waiting} decided meanwhile, to the trials serving in turn, in the
     * order {@link #decideLive} reads them: put among the trials before its decision goes, and out of the waiting map
     * last, so a layer asking meanwhile finds it in one or the other and joins it.
     */
    private void open(LiveTrial trial, Map<String, LiveTrial> waiting) {
        trials.put(trial.key(), trial);
        decisions.remove(trial.key());
        waiting.remove(trial.key());
    }

    /**
     * The first forward has ended: the budget, a share of the forward its layers predicted (and the deciding CPU time
     * spent on it), is known. Each trial held through it ({@link LiveTrial#holdForTheForward}) starts, in the order
     * they opened, where the budget affords some candidate other than the prediction's a start; else it decides on
     * the prediction, for good, as the trial would have (the sampler would cut every other candidate before its first
     * call, and the trial keep the prediction's, measured or not). Opened at once, every such trial paid a trial's
     * bookkeeping over two forwards to learn nothing: at 1 x 32 tokens the budget cut every other candidate of every
     * signature before a call (bench/results/schedule-cpu-20261207-0444.md), and choosing cost 1.3-1.4x a forward.
     */
    private void startTrialsHeldForTheForward() {
        synchronized (store.decisionLock()) {
            List<LiveTrial> held;
            synchronized (waitingForTheForward) {
                held = new ArrayList<>(waitingForTheForward.values());
            }
            double budget = trialBudgetMillis();
            // A started trial reserves its start only on its sampler's first call: the ones started before it here
            // count their cheapest start meanwhile, so that a budget that affords one more start starts one trial,
            // not every held one (the others would each be put off for a few calls, then cut).
            double committed = trialCommittedMillis();
            for (LiveTrial trial : held) {
                Map<String, Double> starts = trial.startMillis();
                double cheapest = Double.POSITIVE_INFINITY;
                for (double need : starts.values()) {
                    cheapest = Math.min(cheapest, need);
                }
                if (starts.isEmpty() || committed + cheapest <= budget) {
                    trial.startAfterTheForward();
                    open(trial, waitingForTheForward);
                    committed += starts.isEmpty() ? 0 : cheapest;
                    for (String layer : trial.layers()) {
                        plan.put(new PlanKey(layer, trial.decisionOrProvisional().signature()),
                                new Plan.Entry(layer, trial.decisionOrProvisional()));
                    }
                } else {
                    decideOnPrediction(trial, starts, committed, budget);
                    waitingForTheForward.remove(trial.key());
                }
            }
        }
    }

    /**
     * Decides {@code trial}, held through the first forward, on its prediction: the budget affords no other candidate
     * a start ({@code starts}, what each would need, beside {@code committedMillis} of {@code budgetMillis}). Stored
     * final, as the trial's decision would have been: a later process faces the same budget. It measures nothing, so
     * no correction is learnt and the forward's scale stays as predicted (a stricter budget where the table
     * underrates the device). Where another session on the store decided meanwhile, its choice is taken, as a
     * trial's completion takes it: one store never holds two answers.
     */
    private void decideOnPrediction(LiveTrial trial, Map<String, Double> starts, double committedMillis,
                                    double budgetMillis) {
        long start = System.nanoTime();
        Candidate chosen = trial.best();
        List<String> names = trial.candidateNames();
        Optional<Outcome> other = stored(store.choice(device, trial.key()).orElse(null), names);
        Outcome outcome;
        if (other.isPresent()) {
            outcome = other.get().withReason(other.get().reason() + "; another session decided while this one's "
                    + "first forward ran");
        } else {
            StringBuilder reason = new StringBuilder(trial.why()).append("; the trial budget (");
            FixedPoint.append(reason, budgetMillis, 3).append(" ms, a share of the first forward, ");
            FixedPoint.append(reason, committedMillis, 3).append(" ms committed) affords no other candidate its "
                    + "first call and " + LiveTrial.MIN_SAMPLES + " samples (");
            String separator = "";
            for (Map.Entry<String, Double> e : starts.entrySet()) {
                FixedPoint.append(reason.append(separator).append(e.getKey()).append(' '), e.getValue(), 3)
                        .append(" ms");
                separator = ", ";
            }
            reason.append("): decided on the prediction, not handed to a later process, whose trial would face the "
                    + "same share of its forward");
            outcome = new Outcome(chosen.name(), Decision.Source.PREDICTED, Map.of(), predictionReason(
                    byPrediction(trial.candidates(), trial.predicted()), trial.predicted(), reason.toString()));
        }
        Decision held = trial.decisionOrProvisional();
        Decision decision = new Decision(held.kind(), held.signature(), held.statistics(),
                estimates(trial.candidates(), trial.predicted(), outcome.measured()), outcome.chosen(),
                outcome.source(), outcome.reason(), trial.predictingNanos() + (System.nanoTime() - start));
        if (other.isEmpty()) {
            remember(trial.key(), decision, names, trial.predicted(), outcome, MEASURING, false);
        }
        decisions.put(trial.key(), decision);
        trial.decide(decision);
        for (String layer : trial.layers()) {
            plan.put(new PlanKey(layer, decision.signature()), new Plan.Entry(layer, decision));
        }
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

    private static String key(String signature, List<Candidate> candidates) {
        StringBuilder s = new StringBuilder(signature).append("|candidates=");
        for (Candidate c : candidates) {
            s.append(c.name()).append(';');
        }
        return s.toString();
    }

    /**
     * The decision for {@code key} (made now, measuring here if the policy asks), or, where {@code live} and the
     * policy would measure, a {@link LiveTrial} whose layers' live calls make it.
     */
    private Object choose(String key, String signature, LayerStatistics statistics, List<Candidate> candidates,
                          boolean live) {
        long start = System.nanoTime();
        List<String> names = new ArrayList<>(candidates.size());
        for (Candidate c : candidates) {
            if (names.contains(c.name())) {
                throw InvalidInputException.argument("Scheduler.decide", "two candidates are named " + c.name());
            }
            names.add(c.name());
        }
        Optional<String> forced = policy.forcedFor(statistics.kind());
        Outcome outcome;
        Map<String, Double> predicted = null;
        if (forced.isPresent() && names.contains(forced.get())) {
            outcome = new Outcome(forced.get(), Decision.Source.FORCED, Map.of(),
                    "forced by the policy (" + policy + ")");
        } else if (candidates.size() == 1) {
            outcome = new Outcome(names.get(0), Decision.Source.ONLY_CANDIDATE, Map.of(),
                    "the only candidate the backend offers for this layer");
        } else {
            TuningStore.StoredChoice choice = policy.mode() == Policy.Mode.PREDICTED_ONLY ? null
                    : store.choice(device, key).orElse(null);
            Optional<Outcome> stored = stored(choice, names);
            List<Candidate> recheck = stored.isPresent() && live && policy.mode() == Policy.Mode.AUTO
                    && choice.provisionalChoice() && store.recordedEarlier(device, key)
                    ? recheckCandidates(choice, candidates) : List.of();
            String agreement = null;
            if (!recheck.isEmpty()) {
                predicted = predictAll(candidates);
                agreement = confirmedByPrediction(choice, recheck, predicted);
            }
            if (agreement != null) {
                // Two signals agree: confirmed as it is, stored so, and no trial is opened.
                store.putChoice(device, key, new TuningStore.StoredChoice(choice.chosen(), choice.policy(),
                        choice.source(), choice.candidates(), choice.predictedMillis(), choice.measuredMillis(),
                        choice.recorded(), choice.measuring()), Map.of());
                stored = Optional.of(stored.get().withReason(stored.get().reason() + "; " + agreement));
            } else if (!recheck.isEmpty()) {
                // A provisional choice of an earlier process: a short trial of it and its runner-up, then confirmed.
                String why = "re-checking a provisional choice (" + stored.get().reason() + ")";
                long nanos = System.nanoTime() - start;
                Decision provisional = new Decision(statistics.kind(), signature,
                        DescribedStatistics.of(statistics), estimates(candidates, predicted, Map.of()),
                        choice.chosen(), Decision.Source.DECIDING, "deciding on live calls (" + why + ")", nanos);
                Candidate kept = recheck.get(0);
                LiveTrial trial = new LiveTrial(this, key, statistics, candidates, recheck, predicted, kept, why,
                        true, nanos, provisional, formMillis(recheck), true);
                if (jit.compiling()) {
                    // Measured now, the re-check would time code the JIT is compiling and re-try warm whatever that
                    // costs: two trials, the first of little worth. Held, the stored choice serves meanwhile.
                    trial.holdUntilQuietJit(new Decision(provisional.kind(), provisional.signature(),
                            provisional.statistics(), estimates(candidates, predicted, stored.get().measured()),
                            choice.chosen(), Decision.Source.STORED, stored.get().reason() + "; " + RECHECK_HELD,
                            nanos));
                }
                return trial;
            }
            if (stored.isPresent()) {
                // A stored choice explains itself with the predictions it was made with: no candidate estimates
                // its work (on a GPU a convolution's would sort the map's rows) for a choice already made.
                predicted = predicted != null ? predicted : storedPredictions(choice, names);
                outcome = stored.get();
            } else {
                predicted = predictAll(candidates);
                Step step = selectByPolicy(candidates, predicted);
                if (step instanceof Measurement m && live) {
                    String why = notOffered(forced, names) + m.why();
                    long nanos = System.nanoTime() - start;
                    Decision provisional = new Decision(statistics.kind(), signature,
                            DescribedStatistics.of(statistics), estimates(candidates, predicted, Map.of()),
                            m.best().name(), Decision.Source.DECIDING, "deciding on live calls (" + why + ")",
                            nanos);
                    LiveTrial trial = new LiveTrial(this, key, statistics, candidates, m.toMeasure(), predicted,
                            m.best(), why, policy.mode() == Policy.Mode.AUTO, nanos, provisional,
                            formMillis(m.toMeasure()), false);
                    if (policy.mode() == Policy.Mode.AUTO && inFirstForward() && trial.predictionServesFirst()) {
                        // The budget is a share of the forward, which its layers are still planning: the prediction
                        // serves until the forward ends, and the trial starts then if the budget affords it.
                        trial.holdForTheForward(new Decision(statistics.kind(), signature, provisional.statistics(),
                                provisional.candidates(), m.best().name(), Decision.Source.DECIDING,
                                "deciding once the first forward has run (" + why + "); the prediction serves "
                                        + "meanwhile", nanos));
                    }
                    return trial;
                }
                outcome = step instanceof Outcome o ? o : measureNow((Measurement) step, predicted);
            }
            if (forced.isPresent()) {
                outcome = outcome.withReason(notOffered(forced, names) + outcome.reason());
            }
        }
        if (predicted == null) {
            predicted = predictAll(candidates);
        }
        long nanos = System.nanoTime() - start;
        Decision decision = new Decision(statistics.kind(), signature, DescribedStatistics.of(statistics),
                estimates(candidates, predicted, outcome.measured()), outcome.chosen(), outcome.source(),
                outcome.reason(), nanos);
        remember(key, decision, names, predicted, outcome, MEASURING, false);
        return decision;
    }

    /** Each candidate's predicted weight conversion on a layer's first call of it, ms. */
    private Map<String, Double> formMillis(List<Candidate> candidates) {
        Map<String, Double> forms = new LinkedHashMap<>();
        for (Candidate c : candidates) {
            forms.put(c.name(), table.formSeconds(c.kernel(), c.work()) * 1e3);
        }
        return forms;
    }

    /**
     * Why provisional choice {@code c} of an earlier process stands without a re-check of {@code recheck} (its chosen
     * candidate and runner-up), or null where it is re-checked: where the chosen one is the best-predicted candidate
     * now (this process's table and corrections) and the runner-up was measured slower than it by more than
     * {@link #MIN_GAIN}, the prediction and the measurement agree, and a re-check would time the same two again, its
     * runner-up's first calls (a weight's conversion, code this JVM has not compiled) costing the next process several
     * forwards at small calls (108 ms of calls at 1 x 32 tokens in bench/results/schedule-cpu-20261206-1713.md). A
     * runner-up never measured (cut by the trial budget, or eliminated on one sample, which is not kept) is re-checked:
     * a choice that agrees with the prediction because only the predicted-best candidate ran proves nothing.
     */
    private static String confirmedByPrediction(TuningStore.StoredChoice c, List<Candidate> recheck,
                                                Map<String, Double> predicted) {
        String chosen = recheck.get(0).name();
        String runnerUp = recheck.get(1).name();
        Map<String, Double> measured = c.measuredMillis();
        Double chosenMillis = measured == null ? null : measured.get(chosen);
        Double runnerUpMillis = measured == null ? null : measured.get(runnerUp);
        if (chosenMillis == null || runnerUpMillis == null || !(runnerUpMillis > chosenMillis * (1 + MIN_GAIN))) {
            return null;
        }
        double chosenPredicted = predicted.get(chosen);
        for (double p : predicted.values()) {
            if (p < chosenPredicted) {
                return null;
            }
        }
        return CONFIRMED_BY_PREDICTION + " (" + chosen + " predicted best, and measured faster than " + runnerUp + ")";
    }

    /**
     * What re-checks provisional choice {@code c}: the chosen candidate and the runner-up (the fastest other one it
     * measured, else the best-predicted other), where both can run here; else none (the choice stands as stored).
     */
    private List<Candidate> recheckCandidates(TuningStore.StoredChoice c, List<Candidate> candidates) {
        Candidate chosen = null;
        Candidate runnerUp = null;
        double runnerUpMillis = Double.MAX_VALUE;
        boolean measuredRunnerUp = false;
        for (Candidate k : candidates) {
            if (!k.runnable()) {
                continue;
            }
            if (k.name().equals(c.chosen())) {
                chosen = k;
                continue;
            }
            Double measured = c.measuredMillis() == null ? null : c.measuredMillis().get(k.name());
            Double predicted = c.predictedMillis() == null ? null : c.predictedMillis().get(k.name());
            double millis = measured != null ? measured : predicted != null ? predicted : Double.MAX_VALUE;
            if (measured != null && !measuredRunnerUp || (measured != null) == measuredRunnerUp
                    && millis < runnerUpMillis) {
                runnerUp = k;
                runnerUpMillis = millis;
                measuredRunnerUp = measured != null;
            }
        }
        return chosen == null || runnerUp == null ? List.of() : List.of(chosen, runnerUp);
    }

    private static List<Decision.Estimate> estimates(List<Candidate> candidates, Map<String, Double> predicted,
                                                     Map<String, Double> measured) {
        List<Decision.Estimate> estimates = new ArrayList<>(candidates.size());
        for (Candidate c : candidates) {
            estimates.add(new Decision.Estimate(c.name(), c.kernel(), predicted.get(c.name()), measured.get(c.name())));
        }
        return estimates;
    }

    /**
     * Ends {@code trial}: the policy's rules on its lower medians decide, the choice is stored and the corrections
     * learn from it, and its layers' plan entries take the decision. Called once, by the call that completed it. If
     * another session on the same store decided the signature meanwhile, its choice is taken instead, so that one
     * store never holds two answers for one layer. A candidate that failed on a live call is never chosen: where no
     * other was measured, the best-predicted one that did not fail is; where every one failed, the trial ends without
     * a decision (its layers' calls throw the first failure) and a later layer of the signature opens a new one.
     */
    void complete(LiveTrial trial) {
        long start = System.nanoTime();
        List<String> names = trial.candidateNames();
        Decision decision;
        String provisionalWhy = null;
        // An earlier process's choice that stands as stored (a re-check that measured too little): recorded as it is.
        boolean keepStored = false;
        List<String> cold = List.of();
        synchronized (store.decisionLock()) {
            // The choice a re-check re-checks is no other session's decision.
            // Nor is this process's own cold choice, which a warm re-trial re-tries.
            Optional<Outcome> other = store.recordedEarlier(device, trial.key()) || trial.warmRetry()
                    ? Optional.empty() : stored(store.choice(device, trial.key()).orElse(null), names);
            Map<String, Double> measured = trial.measuredMillis();
            // A re-check cut before both candidates had a sample: the earlier process's choice, as it stands.
            Optional<Outcome> standing = other.isPresent() || trial.warmRetry() ? Optional.empty()
                    : earlierStands(trial, measured);
            Outcome outcome;
            if (other.isPresent()) {
                outcome = other.get().withReason(other.get().reason() + "; another session decided while this one "
                        + "was measuring (its own lower medians: " + measured + ")");
            } else if (standing.isPresent()) {
                // A re-check the budget cut before both candidates had a sample learnt nothing new: the earlier
                // process's choice stands as stored, provisional, neither confirmed on the chosen one's samples
                // alone nor replaced by a prediction (both happened: at 1 x 32 tokens the next process stored the
                // prediction's choices over measured ones, ad hoc runs of schedule-cpu-20261206-1713's bench).
                Outcome earlier = standing.get();
                boolean last = store.choice(device, trial.key()).orElseThrow().cutRecheckCount() + 1
                        >= MAX_CUT_RECHECKS;
                outcome = earlier.withReason(earlier.reason() + "; the trial budget cut the re-check "
                        + trial.cutByBudget() + " before each candidate had a sample: it stands, " + (last
                        ? "confirmed, as " + MAX_CUT_RECHECKS + " re-checks have left it so"
                        : "provisional, for the next process"));
                keepStored = true;
            } else if (measured.isEmpty()) {
                Candidate unfailed = trial.bestUnfailed();
                if (unfailed == null) {
                    trial.exhaust();
                    trials.remove(trial.key());
                    return;
                }
                outcome = new Outcome(unfailed.name(), Decision.Source.PREDICTED, Map.of(), "no live call was "
                        + "measured (failed: " + trial.failures() + "); the best-predicted candidate that did "
                        + "not fail stands");
                List<String> cut = trial.cutByBudget();
                if (!cut.isEmpty() && !trial.recheck()) {
                    provisionalWhy = "the trial budget cut " + cut + " before a sample";
                    outcome = outcome.withReason(outcome.reason() + "; provisional (" + provisionalWhy
                            + "): the next process re-checks it");
                }
            } else {
                String confirming = predictionToConfirm(trial, measured);
                if (confirming != null && trial.confirmPrediction(trial.best().name(), confirming)) {
                    // Not decided yet: the cut candidate serves in turn until it has samples of its own.
                    return;
                }
                Measurement m = new Measurement(trial.servedCandidates(), trial.best(), trial.why());
                outcome = judge(m, measured, trial.failures(), "measured on " + trial.callCount() + " live calls (");
                if (trial.confirmNote() != null) {
                    outcome = outcome.withReason(outcome.reason() + "; " + trial.confirmNote());
                }
                provisionalWhy = trial.provisionalWhy(outcome.chosen());
                cold = trial.coldLosers(outcome.chosen());
                if (!cold.isEmpty()) {
                    // A re-trial that would take choosing past WARM_RETRY_BUDGET_SHARES of the trial budget is not
                    // opened: the choice stands provisional, and the next process re-checks it. A re-check is
                    // re-tried warm whatever it costs: left provisional again, every process would re-check it.
                    // Either way the choice is stored provisional, so should the process end before the JIT is
                    // quiet, the next one re-checks it.
                    boolean affordable = policy.mode() != Policy.Mode.AUTO || trial.recheck() || trialCommittedMillis()
                            + trial.warmRetryMillis(outcome.chosen(), cold)
                            <= WARM_RETRY_BUDGET_SHARES * trialBudgetMillis();
                    String coldWhy = "measured before the JIT had compiled " + String.join(", ", cold)
                            + (affordable ? ": re-tried warm in this process once the JIT is quiet"
                            : ", and the choosing budget leaves no warm re-try");
                    provisionalWhy = provisionalWhy == null ? coldWhy : coldWhy + "; " + provisionalWhy;
                    if (!affordable) {
                        cold = List.of();
                    }
                }
                if (trial.warmRetry()) {
                    outcome = outcome.withReason(outcome.reason() + "; " + trial.warmRetryNote());
                }
                Map<String, Double> early = trial.eliminatedOnOneSample();
                if (!early.isEmpty()) {
                    outcome = outcome.withReason(outcome.reason() + "; not judged on one sample far behind: " + early);
                }
                if (trial.recheck() && cold.isEmpty()) {
                    outcome = outcome.withReason(outcome.reason() + "; " + CONFIRMED_BY_RECHECK);
                } else if (provisionalWhy != null) {
                    outcome = outcome.withReason(outcome.reason() + "; provisional (" + provisionalWhy
                            + "): " + (cold.isEmpty() ? "the next process re-checks it"
                            : "stored so until the warm re-trial decides"));
                } else {
                    String settled = trial.settledNote(outcome.chosen());
                    if (settled != null) {
                        outcome = outcome.withReason(outcome.reason() + "; " + settled);
                    }
                }
            }
            Double winnerMillis = measured.get(outcome.chosen());
            double extraMillis = winnerMillis == null ? 0 : trial.extraMillis(outcome.chosen(), winnerMillis);
            long extraNanos = Math.round(extraMillis * 1e6);
            trialExtraNanos.addAndGet(extraNanos);
            if (policy.mode() == Policy.Mode.AUTO) {
                // The budget ends holding what the report counts: this decision's extra time over its winner.
                spend(trial.settle(extraMillis));
            }
            String reason = outcome.reason() + "; choosing cost the live calls " + FixedPoint.append(
                    new StringBuilder(), extraMillis, 3) + " ms over serving them all with " + outcome.chosen();
            long nanos = trial.predictingNanos() + extraNanos + (System.nanoTime() - start);
            // The provisional decision's signature: the same text, not formatted again.
            decision = new Decision(trial.statistics().kind(), trial.decisionOrProvisional().signature(),
                    trial.decisionOrProvisional().statistics(), estimates(trial.candidates(), trial.predicted(),
                    outcome.measured()), outcome.chosen(), outcome.source(), reason, nanos);
            if (keepStored) {
                // Recorded again as it is, still provisional: the other sessions of this JVM (Spark executors beside
                // their driver) then take it as this one did, rather than each opening a re-check of its own and
                // serving its calls by candidates in turn; the next process re-checks it.
                store.putChoice(device, trial.key(),
                        store.choice(device, trial.key()).orElseThrow().afterCutRecheck(MAX_CUT_RECHECKS), Map.of());
            } else if (other.isEmpty()) {
                remember(trial.key(), decision, names, trial.predicted(), outcome, LIVE_MEASURING,
                        provisionalWhy != null);
            }
            if (!cold.isEmpty()) {
                waitingForQuietJit.put(trial.key(), trial);
            }
            decisions.put(trial.key(), decision);
            trial.decide(decision);
            trials.remove(trial.key());
        }
        for (String layer : trial.layers()) {
            plan.put(new PlanKey(layer, decision.signature()), new Plan.Entry(layer, decision));
        }
    }

    /**
     * Under {@code auto}, why the trial should serve its best-predicted candidate again, where the trial budget cut it
     * before it had a sample and its prediction, as the trials so far have corrected it ({@link #predictMillis}), is a
     * clear gain ({@link #MIN_GAIN}) on the fastest measured time; else null. The trial then serves it until it has
     * samples of its own ({@link LiveTrial#confirmPrediction}) and decides on them, rather than by whichever candidate
     * happened to serve first: the dense path serving ahead of a sparse one predicted best (at 16 x 128 tokens auto
     * kept that dense path on the FFN layers whose trials the budget cut, and ran 1.06-1.10x fastest-measured where
     * predicted-only ran within 1% of it: bench/results/schedule-cpu-20261207-0135.md). The trial itself lifts a cut
     * earlier, when the sampler comes to the candidate ({@code LiveTrial.liftsCut}); this is for a cut made before any
     * other candidate served. Nor does the prediction
     * stand by itself: a calibration that rated 2:4 faster than the Vector API GEMM at 16 tokens had it chosen
     * unmeasured on six layers where it ran far slower, and auto ran 1.32x fastest-measured at 1 x 32 tokens
     * (bench/results/schedule-cpu-20261207-0340.md).
     */
    private String predictionToConfirm(LiveTrial trial, Map<String, Double> measured) {
        Candidate best = trial.best();
        if (policy.mode() != Policy.Mode.AUTO || trial.recheck() || best == null || measured.isEmpty()
                || measured.containsKey(best.name()) || !trial.cutByBudget(best.name())) {
            return null;
        }
        // Against the fastest measured time, not a prediction: a dense path measured faster than what the sparse one
        // is predicted to take stays (break-even), however wrong its own prediction was.
        double fastestMillis = Double.MAX_VALUE;
        for (double millis : measured.values()) {
            fastestMillis = Math.min(fastestMillis, millis);
        }
        double bestMillis = predictMillis(best);
        return LiveTrial.liftWorthy(bestMillis, fastestMillis)
                ? LiveTrial.liftNote(best.name(), false, bestMillis, fastestMillis) : null;
    }

    /**
     * For a re-check ({@code trial}) that failed nowhere and sampled fewer candidates than it served
     * ({@code measured}, and those eliminated on one sample far behind, which the re-check did see), the earlier
     * process's stored choice, which then stands as it is; else empty.
     */
    private Optional<Outcome> earlierStands(LiveTrial trial, Map<String, Double> measured) {
        if (!trial.recheck() || !trial.failures().isEmpty()
                || measured.size() + trial.eliminatedOnOneSample().size() >= trial.servedCandidates().size()) {
            return Optional.empty();
        }
        List<String> names = trial.candidateNames();
        return stored(store.choice(device, trial.key()).orElse(null), names);
    }

    private Map<String, Double> predictAll(List<Candidate> candidates) {
        Map<String, Double> predicted = new LinkedHashMap<>();
        for (Candidate c : candidates) {
            predicted.put(c.name(), predictMillis(c));
        }
        return predicted;
    }

    /** The predictions stored with choice {@code c}, in {@code names}' order; null unless it has all of them. */
    private static Map<String, Double> storedPredictions(TuningStore.StoredChoice c, List<String> names) {
        if (c.predictedMillis() == null) {
            return null;
        }
        Map<String, Double> predicted = new LinkedHashMap<>();
        for (String name : names) {
            Double millis = c.predictedMillis().get(name);
            if (millis == null || !Double.isFinite(millis)) {
                return null;
            }
            predicted.put(name, millis);
        }
        return predicted;
    }

    private record Outcome(String chosen, Decision.Source source, Map<String, Double> measured, String reason)
            implements Step {
        Outcome withReason(String r) {
            return new Outcome(chosen, source, measured, r);
        }
    }

    /**
     * The outcome of stored choice {@code c} (null: none, or a policy that reads none), if this policy may reuse it.
     * Plain code, no streams or
     * lambdas: this is all a warm store's first forward does per signature, in a JVM where a lambda's first use
     * costs its linkage (about a millisecond).
     */
    private Optional<Outcome> stored(TuningStore.StoredChoice c, List<String> names) {
        if (c == null || !names.equals(c.candidates()) || !names.contains(c.chosen())
                // A choice measured one candidate after the other may have charged the JIT's warm-up to the first.
                // (and one measured before a sparse winner was confirmed against every dense path).
                || (c.source() == Decision.Source.MEASURED && !MEASURING.equals(c.measuring())
                        && !LIVE_MEASURING.equals(c.measuring()))
                || !(policy.mode() == Policy.Mode.AUTO || Policy.Mode.FASTEST_MEASURED.label().equals(c.policy()))) {
            return Optional.empty();
        }
        return Optional.of(new Outcome(c.chosen(), Decision.Source.STORED,
                c.measuredMillis() == null ? Map.of() : c.measuredMillis(),
                "stored " + c.recorded() + " by policy " + c.policy() + " (" + c.source()
                        + (c.provisionalChoice() ? ", provisional" : "") + ")"));
    }

    /** What a decision needs next: an outcome already (no measurement), or these candidates measured. */
    private sealed interface Step permits Outcome, Measurement {
    }

    /** Candidates to measure, the best-predicted one, and why they are measured (for the reason). */
    private record Measurement(List<Candidate> toMeasure, Candidate best, String why) implements Step {
    }

    /** {@code candidates} in order of prediction, fastest first. */
    private static List<Candidate> byPrediction(List<Candidate> candidates, Map<String, Double> predicted) {
        List<Candidate> byPrediction = new ArrayList<>(candidates);
        // Insertion sort by prediction (a handful of candidates; no comparator lambda to link on a first decision).
        for (int i = 1; i < byPrediction.size(); i++) {
            Candidate c = byPrediction.get(i);
            int j = i;
            while (j > 0 && predicted.get(byPrediction.get(j - 1).name()) > predicted.get(c.name())) {
                byPrediction.set(j, byPrediction.get(j - 1));
                j--;
            }
            byPrediction.set(j, c);
        }
        return byPrediction;
    }

    private Step selectByPolicy(List<Candidate> candidates, Map<String, Double> predicted) {
        List<Candidate> byPrediction = byPrediction(candidates, predicted);
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
                boolean sparseMeasured = false;
                int densePaths = 0;
                for (Candidate c : byPrediction) {
                    densePaths += c.dense() ? 1 : 0;
                    if (predicted.get(c.name()) <= bestMillis * (1 + margin)) {
                        toMeasure.add(c);
                        sparseMeasured |= !c.dense();
                    }
                }
                why = "predictions within " + Math.round(margin * 100) + "% of the best";
                if (sparseMeasured || densePaths > 1) {
                    // Every dense path is measured: against a sparse candidate, break-even is judged against all of
                    // them, not the best-predicted one; and among themselves, their order at small calls is what the
                    // table gets wrong (a calibration on a busy machine rated the Vector API GEMM 2.8x slower than
                    // OpenBLAS where it ran 10-30% faster). A clear loser costs its first calls and two samples.
                    for (Candidate c : byPrediction) {
                        if (c.dense() && !toMeasure.contains(c)) {
                            toMeasure.add(c);
                        }
                    }
                    why += sparseMeasured ? "; a sparse candidate is confirmed against every dense path"
                            : "; every dense path is measured";
                }
            }
        }
        for (int i = toMeasure.size() - 1; i >= 0; i--) {
            if (!toMeasure.get(i).runnable()) {
                toMeasure.remove(i);
            }
        }
        if (toMeasure.size() < 2) {
            return new Outcome(best.name(), Decision.Source.PREDICTED, Map.of(), predictionReason(byPrediction,
                    predicted, toMeasure.isEmpty() && policy.mode() == Policy.Mode.FASTEST_MEASURED
                            ? "no candidate can run here" : "outside the margin"));
        }
        return new Measurement(toMeasure, best, why);
    }

    /** Where a forced candidate is not among {@code names}, the reason's first words say so; else nothing. */
    private static String notOffered(Optional<String> forced, List<String> names) {
        return forced.isPresent() ? "forced " + forced.get() + " is not offered here (candidates " + names + "); "
                : "";
    }

    /** Measures {@code m}'s candidates before the call, within the policy's budget, and judges them. */
    private Outcome measureNow(Measurement m, Map<String, Double> predicted) {
        double budget = measuringBudgetMillis(m.toMeasure(), predicted);
        List<String> failures = new ArrayList<>();
        Map<String, Double> measured = measure(m.toMeasure(), budget, failures);
        return judge(m, measured, failures, "measured (");
    }

    /**
     * The outcome of measurement {@code m}, {@code measured} the lower medians: the fastest where the policy lets it
     * override the prediction, and never a sparse candidate where a dense one measured faster.
     */
    private Outcome judge(Measurement m, Map<String, Double> measured, List<String> failures, String how) {
        Candidate best = m.best();
        if (measured.isEmpty()) {
            return new Outcome(best.name(), Decision.Source.PREDICTED, Map.of(),
                    "every measurement failed (" + failures + "); the prediction stands");
        }
        Candidate fastest = null;
        Candidate expected = null;
        for (Candidate c : m.toMeasure()) {
            Double ms = measured.get(c.name());
            if (ms == null) {
                continue;
            }
            expected = expected == null ? c : expected;
            fastest = fastest == null || ms < measured.get(fastest.name()) ? c : fastest;
        }
        Candidate winner = overrides(fastest, expected, measured) ? fastest : expected;
        boolean breakEven = false;
        if (!winner.dense()) {
            // Break-even: whichever sparse candidate the rules above kept, a dense one measured faster wins.
            Candidate fastestDense = null;
            for (Candidate c : m.toMeasure()) {
                Double ms = measured.get(c.name());
                if (c.dense() && ms != null && (fastestDense == null || ms < measured.get(fastestDense.name()))) {
                    fastestDense = c;
                }
            }
            if (fastestDense != null && measured.get(fastestDense.name()) < measured.get(winner.name())) {
                winner = fastestDense;
                breakEven = true;
            }
        }
        StringBuilder reason = new StringBuilder(how).append(m.why()).append("): ");
        for (Map.Entry<String, Double> e : measured.entrySet()) {
            FixedPoint.append(reason.append(e.getKey()).append(' '), e.getValue(), 3).append(" ms, ");
        }
        reason.setLength(reason.length() - 2);
        reason.append(" -> ").append(winner.name());
        if (breakEven) {
            reason.append(" (break-even: a dense candidate measured faster than the sparse one kept)");
        } else if (winner != fastest) {
            reason.append(" (").append(fastest.name()).append(" measured within ")
                    .append(Math.round(MIN_GAIN * 100)).append("% of it: the prediction stands)");
        } else if (!winner.name().equals(best.name())) {
            reason.append(" (the prediction favoured ").append(best.name()).append(')');
        }
        if (!failures.isEmpty()) {
            reason.append("; failed: ").append(failures);
        }
        return new Outcome(winner.name(), Decision.Source.MEASURED, measured, reason.toString());
    }

    /**
     * Whether the fastest-measured candidate replaces {@code expected}, the best-predicted one measured: under
     * {@code fastest-measured} always; under {@code auto} where it measured at least {@link #MIN_GAIN} faster (a
     * smaller difference on a few short calls is noise, and the prediction has no noise), or where it is dense and
     * {@code expected} sparse (break-even: a sparse candidate never stays chosen where a dense one measured faster).
     */
    private boolean overrides(Candidate fastest, Candidate expected, Map<String, Double> measured) {
        if (fastest == expected || policy.mode() == Policy.Mode.FASTEST_MEASURED) {
            return true;
        }
        if (fastest.dense() && !expected.dense()) {
            return true;
        }
        return measured.get(expected.name()) > measured.get(fastest.name()) * (1 + MIN_GAIN);
    }

    /**
     * How long one decision may measure. Under {@code auto} the candidates were predicted within the margin of each
     * other, so the right choice gains at most about that margin of one call per call: a measurement longer than a
     * few calls takes many forwards to pay for itself. It gets {@link #BUDGET_PER_PREDICTED_CALL} predicted calls
     * of each candidate it measures (at least {@link #MIN_BUDGET_MILLIS}), and never more than the scheduler's
     * budget. {@code fastest-measured} asks for the measurement, so it gets the scheduler's budget per candidate.
     */
    double measuringBudgetMillis(List<Candidate> toMeasure, Map<String, Double> predicted) {
        if (policy.mode() == Policy.Mode.FASTEST_MEASURED) {
            return budgetMillis * toMeasure.size();
        }
        double oneCallEach = 0;
        for (Candidate c : toMeasure) {
            oneCallEach += predicted.get(c.name());
        }
        return Math.min(budgetMillis, Math.max(MIN_BUDGET_MILLIS, BUDGET_PER_PREDICTED_CALL * oneCallEach));
    }

    private String predictionReason(List<Candidate> byPrediction, Map<String, Double> predicted, String why) {
        Candidate best = byPrediction.get(0);
        Candidate next = byPrediction.get(1);
        double b = predicted.get(best.name());
        double n = predicted.get(next.name());
        StringBuilder s = new StringBuilder("predicted ").append(best.name()).append(' ');
        FixedPoint.append(s, b, 3).append(" ms, next ").append(next.name()).append(' ');
        FixedPoint.append(s, n, 3).append(" ms (");
        return FixedPoint.append(s, n / Math.max(1e-12, b), 2).append("x); ").append(why).toString();
    }

    /**
     * Each candidate's lower median time over interleaved rounds: one warm-up call each, in a round of its own (a
     * first call pays for compilation, caches, a weight's widening, and code the candidates share is still being
     * compiled: every candidate warms before any is timed), then timed rounds in which every candidate runs once,
     * the order rotating from round to round, so that drift and other jobs' load fall on every candidate alike.
     * Timed rounds stop at {@link #ROUNDS} or once the calls made (warm-ups included) have taken
     * {@code budgetMillis}, but never before {@link #MIN_ROUNDS}: a lower median of two is robust to one outlier, a
     * single call is not. A candidate that throws a {@link LacunaException} drops out (its message in
     * {@code failures}). Budgets count the timer's times, so a scripted timer makes the rounds deterministic.
     */
    private Map<String, Double> measure(List<Candidate> candidates, double budgetMillis, List<String> failures) {
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
                    // A candidate that cannot run on this input (a library missing, a shape it refuses) drops out.
                    failures.add(c.name() + ": " + e.getMessage());
                }
            }
            double[][] samples = new double[running.size()][ROUNDS];
            boolean[] dropped = new boolean[running.size()];
            int left = running.size();
            int rounds = 0;
            while (left > 0 && rounds < ROUNDS && (rounds < MIN_ROUNDS || spent < budgetMillis)) {
                for (int i = 0; i < running.size(); i++) {
                    int which = (i + rounds + 1) % running.size();
                    if (dropped[which]) {
                        continue;
                    }
                    try {
                        timer.start();
                        running.get(which).run().run();
                        samples[which][rounds] = timer.stopMillis();
                        spent += samples[which][rounds];
                    } catch (LacunaException e) {
                        // One that ran its warm-up call and fails later (memory pressure, say) drops out as well:
                        // the decision goes on with the others.
                        failures.add(running.get(which).name() + ": " + e.getMessage());
                        dropped[which] = true;
                        left--;
                    }
                }
                rounds++;
            }
            Map<String, Double> measured = new LinkedHashMap<>();
            for (int i = 0; i < running.size(); i++) {
                if (dropped[i]) {
                    continue;
                }
                double[] taken = Arrays.copyOf(samples[i], rounds);
                Arrays.sort(taken);
                measured.put(running.get(i).name(), taken[(rounds - 1) / 2]);
            }
            return measured;
        }
    }

    private void remember(String key, Decision decision, List<String> names, Map<String, Double> predicted,
                          Outcome outcome, String measuring, boolean provisional) {
        Map<String, Double> learnt = new LinkedHashMap<>();
        if (decision.source() == Decision.Source.MEASURED) {
            for (Decision.Estimate e : decision.candidates()) {
                if (e.measuredMillis() != null && e.predictedMillis() > 0) {
                    // A bounded step towards this measurement: one outlier cannot swing later predictions.
                    // One atomic update of the kernel's entry: it does not rely on the caller's lock.
                    double ratio = e.measuredMillis() / e.predictedMillis();
                    learnt.put(e.kernel(), stepCorrection(e.kernel(), ratio));
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
                    TuningStore.now(), decision.source() == Decision.Source.MEASURED ? measuring : null,
                    provisional ? Boolean.TRUE : null), learnt);
        }
    }

    /**
     * Moves {@code kernel}'s correction one bounded step towards {@code ratio} times itself, atomically (a
     * compare-and-set loop: plain code, no lambda to link in the cold JVM that makes its first decisions); returns
     * the new correction.
     */
    private double stepCorrection(String kernel, double ratio) {
        while (true) {
            Double old = corrections.get(kernel);
            double current = old == null ? 1.0 : old;
            Double updated = correctionStep(current, current * ratio);
            if (old == null ? corrections.putIfAbsent(kernel, updated) == null
                    : corrections.replace(kernel, old, updated)) {
                return updated;
            }
        }
    }

    /** The corrections learnt so far, per kernel (measured over predicted time). */
    public Map<String, Double> corrections() {
        return Map.copyOf(corrections);
    }
}

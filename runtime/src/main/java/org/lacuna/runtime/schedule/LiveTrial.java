package org.lacuna.runtime.schedule;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;

/**
 * A decision being made on a layer's live calls: where the scheduler would measure (predictions too close to call, a
 * sparse winner to confirm, {@code fastest-measured}), a layer that can serve a call with any of its candidates (all
 * compute the same function) serves its real calls with the candidates in turn and reports each call's time here.
 * Each call is a timed sample that also produced the real output, so choosing costs only the difference between the
 * candidates plus the bookkeeping, and the samples are taken as the model really runs (its caches, its neighbours,
 * the JIT as it is by then), however many forwards that spans.
 *
 * <p>A layer's first call of a candidate pays one-time costs (its weight's widening, code still compiling): it serves
 * but is not a sample. Candidates serve in turn, the one with the fewest samples first (ties in rotation), until each
 * has {@link #SAMPLES} samples; under {@code auto}, once every candidate has a sample, one {@link #ELIMINATE_FAR_ABOVE}
 * times the best stops serving, and once every one has {@link #MIN_SAMPLES}, one whose lower median is above
 * {@link #ELIMINATE_ABOVE} times the best's (a clear loser costs no more calls). Layers of one signature share one
 * trial, and only one of them at a time serves the candidates in turn ({@link #sampledBy}): each other one would pay
 * every losing candidate's first call (a widened weight, say) as well. The sampler is the first to serve a call until
 * it is released ({@link #release}: its layer closed), collected, or quiet while the others served
 * {@link #QUIET_CALLS_PER_LAYER} calls per layer; then the next layer to serve a call takes over. The others serve
 * with the best-predicted candidate (dense, where a sparse one is predicted best), then the fastest so far
 * ({@link #provisional()}), until the decision, their calls timed too, since what they cost beyond the chosen
 * candidate is a cost of choosing; their later calls of a candidate are samples as well (the same shapes), so that
 * candidate's samples fill while the sampler serves the others, and a trial over a model's repeated blocks takes
 * fewer forwards. The scheduler then decides by its policy's rules on the lower medians ({@link Scheduler}), stores
 * the choice, and {@link #decision()} returns it: the layers route every later call to it.
 *
 * <p>Under {@code auto} a trial spends from the scheduler's trial budget ({@link Scheduler#trialBudgetMillis()}, a
 * fraction of the predicted forward) what the report counts as its cost: the calls of every layer of the trial (the
 * sampler's and the others') served by a candidate other than the best so far, beyond the best's time, a layer's
 * first call of a candidate its weight's conversion included; a best found later re-prices the earlier calls, and
 * the decision settles the account at the extra time over its winner ({@link #settle}). Every call also spends the
 * host time of its bookkeeping (charged by the layer: {@link Scheduler#chargeTrial}), and the budget holds the layers'
 * deciding CPU time too ({@link Scheduler#choosingSpentMillis()}). Before the sampler serves another candidate, what
 * the round is expected to cost must fit what is left: its call beyond the best's (plus the predicted conversion where
 * it has not served yet), what the other layers' calls of the round would count were it faster, and the round's
 * bookkeeping at the average so far; a candidate not yet started must fit with its {@link #MIN_SAMPLES} samples
 * besides, which it pledges (reserved until each sample asks), so that no first call is paid for a candidate the
 * budget then leaves unjudged. Where it does not fit, the candidate is cut and serves no more (on the sampler's first
 * call, when the forward's share is not yet known, it is only put off, and for up to {@link #MAX_DEFERRED_CALLS} of
 * the sampler's calls where it fits beside what is spent but not beside what other trials hold): a trial stops before
 * an expected overrun, not after. With every other candidate cut or eliminated, the trial decides on what it measured
 * (at once where every other one was cut before it served a call). Where the budget cut the best-predicted candidate
 * before a sample and its prediction beats the measured ones clearly, the scheduler lifts the cut
 * ({@link #confirmPrediction}): it serves until it has samples of its own, and the trial decides on them.
 *
 * <p>A decision is provisional where a re-check could learn what this trial did not and could afford it
 * ({@link #provisionalWhy}): the trial ended on its own rules (not the budget) with a runner-up eliminated on one
 * sample (which may have held JIT compilation or a burst of load) and none other measured, or the winner short of
 * {@link #MIN_SAMPLES} samples; or a sparse winner was not confirmed against every dense path the budget did not
 * cut; or the winner beat a
 * Java kernel timed while the JIT compiled, and the budget leaves no warm re-try in this process ({@link Scheduler}).
 * Otherwise a trial the budget ended, and a near-tie measured {@link #MIN_SAMPLES} times each, are final
 * ({@link #settledNote} says what was left unmeasured). A provisional decision is stored marked so: sessions of this JVM share it like any other
 * (Spark executors agree with the driver bit for bit), and the next process re-checks it on a short trial of the
 * chosen candidate and the runner-up ({@link #recheck}) and stores the outcome confirmed.
 *
 * <p>A candidate that throws on a live call has failed: it serves no more calls and its samples are not counted. If
 * every candidate fails, the trial ends without a decision and its calls throw the first failure. Thread-safe.
 */
public final class LiveTrial {
    /** What a trial not yet started waits for, its decision serving meanwhile. */
    private enum Hold {
        /** Not held: serving in turn, or decided. */
        NONE,
        /** A re-check whose stored choice serves until the JIT is quiet ({@link #holdUntilQuietJit}). */
        UNTIL_QUIET_JIT,
        /**
         * A trial opened in the scheduler's first forward whose prediction serves until that forward ends and the
         * trial budget is known ({@link #holdForTheForward}).
         */
        THROUGH_FIRST_FORWARD
    }

    /** Timed calls per candidate a trial takes, at most. */
    public static final int SAMPLES = 4;
    /**
     * The sampler's calls (about a forward each) for which a candidate the budget affords beside what is spent, but
     * not beside what other trials hold, is put off before it is cut.
     */
    static final int MAX_DEFERRED_CALLS = 4;
    /** Timed calls per candidate before any may be eliminated. */
    public static final int MIN_SAMPLES = 2;
    /**
     * Forwards without a call after which a trial gives back what it reserved and pledged ({@link #forwardEnded()}):
     * a trial's sampler serves a call every forward while its layers run.
     */
    static final int QUIET_FORWARDS = 2;
    /** Under {@code auto}, a candidate whose lower median exceeds the best's by this factor stops serving. */
    public static final double ELIMINATE_ABOVE = 1.5;
    /**
     * Under {@code auto}, a candidate whose first sample is this many times the best's stops serving at once, before
     * its {@link #MIN_SAMPLES}: far behind, one more call cannot bring it level, and such a call is the trial's
     * dearest. A kernel path this JVM has not run before (at 32 tokens the 2:4 path with a bias, GELU and an f16
     * output, which calibration does not run) serves its first calls interpreted: 35 to 500 ms each against about
     * 1 ms once compiled (observed while developing on the 2-vCPU machine; not kept as a record).
     */
    public static final double ELIMINATE_FAR_ABOVE = 3.0;
    /**
     * Calls the other layers of the trial may serve, per layer in the trial, while the sampler serves none before
     * sampling passes to the next layer to serve a call: in a model each of those layers serves about one call per
     * forward, so a sampler that still runs serves one long before, and one that stopped hands over after a few
     * forwards.
     */
    public static final int QUIET_CALLS_PER_LAYER = 4;

    private final Scheduler scheduler;
    private final String key;
    private final LayerStatistics statistics;
    private final List<Candidate> candidates;
    private final List<Candidate> served;
    /** The served candidates' names, by index (read on every call while the trial runs). */
    private final List<String> servedNames;
    private final Map<String, Double> predicted;
    private final Candidate best;
    /** What the other layers serve until every candidate has a sample: see {@link #provisional()}. */
    private final Candidate firstProvisional;
    private final String why;
    /**
     * Under {@code auto}: far-behind candidates stop serving, and the trial spends from the scheduler's trial
     * budget; {@code fastest-measured} measures everything.
     */
    private final boolean eliminates;
    private final long predictingNanos;
    private final Decision provisional;
    /** Re-checks a provisional choice of an earlier process: its outcome is stored confirmed. */
    private final boolean recheck;
    /** Each served candidate's predicted conversion on a layer's first call of it, ms. */
    private final double[] formMillis;
    /**
     * Each served candidate's prediction, ms ({@link Double#MAX_VALUE} where it has none): read on every call while
     * the trial runs, an array rather than a map lookup by name.
     */
    private final double[] predictedMillis;
    /** Cut by the trial budget: serves no more, decided on what it measured. */
    private final boolean[] cut;
    /** Eliminated on a single sample: not judged on it, and the decision is provisional. */
    private final boolean[] eliminatedOnOne;
    /** Whether the JVM compiles the candidate's code as it runs ({@link JitWatch#compiledByJit}). */
    private final boolean[] jitCompiled;
    /** Served a call while the JIT was compiling ({@link JitWatch#compiling()}): its times may be of cold code. */
    private final boolean[] servedCold;
    /**
     * Set once the trial is re-opened after the JIT went quiet, following a decision against candidates measured
     * while it compiled ({@link #reopenWarm}): why (the candidates measured cold and the first trial's lower medians).
     * A warm re-trial is not cut by the trial budget once opened, and not re-opened again. Null otherwise.
     */
    private String warmRetryNote;
    /** Why a trial not yet started is held, decided meanwhile: {@link Hold#NONE} once it serves in turn. */
    private Hold hold = Hold.NONE;
    /**
     * The best-predicted candidate whose cut by the budget was lifted to measure it ({@link #confirmPrediction}), and
     * why; -1 and null where none was.
     */
    private int confirming = -1;
    private String confirmNote;
    /** Calls the sampler served in turn ({@link #next()}): past the first, the forward's share is known. */
    private int samplerCalls;
    /** The sampler's calls that put a candidate off while other trials held the budget ({@link #next()}). */
    private int deferredCalls;
    /** The sampler has just taken over: its next call starts with the candidate {@link #turn} points at. */
    private boolean takingOver;
    /**
     * This trial's share of the scheduler's forward estimate ({@link Scheduler#forwardScale()}): its layers' best
     * prediction and best lower median so far, ms (0 before a sample).
     */
    private double forwardPredicted;
    private double forwardMeasured;
    /** What this trial's calls have spent from the scheduler's trial budget so far, ms ({@link #settle}). */
    private double charged;
    /** What the sampler's call under way is expected to spend, reserved in the scheduler until it reports, ms. */
    private double reserved;
    private int reservedFor = -1;
    /**
     * What each of a started candidate's samples is expected to spend, pledged for {@link #MIN_SAMPLES} of them when
     * it started, ms, and how many of those are still reserved in the scheduler ({@link #takePledgeShare}).
     */
    private final double[] pledgeShare;
    private final int[] pledgedCalls;
    /** Forwards ended since a layer of the trial last reported a call ({@link #forwardEnded()}). */
    private int quietForwards;
    private final double[][] samples;
    private final int[] sampleCount;
    private final double[] servedMillis;
    private final int[] servedCalls;
    /** Still serving in turn: neither failed nor eliminated as a clear loser. */
    private final boolean[] active;
    /** Threw on a live call: never serves again, never chosen, its samples not counted. */
    private final boolean[] failed;
    private final List<String> failures = new ArrayList<>();
    private LacunaException firstFailure;
    private final Set<String> layers = new LinkedHashSet<>();
    /** Weak: the trial must not keep a layer that was dropped without being closed. */
    private WeakReference<Object> sampler;
    /** Calls the other layers asked to serve since the sampler's last. */
    private int quietCalls;
    private int turn;
    /** Every candidate failed: no decision will come. */
    private boolean exhausted;
    private boolean finishing;
    private volatile Decision decision;

    LiveTrial(Scheduler scheduler, String key, LayerStatistics statistics, List<Candidate> candidates,
              List<Candidate> served, Map<String, Double> predicted, Candidate best, String why, boolean eliminates,
              long predictingNanos, Decision provisional, Map<String, Double> formMillis, boolean recheck) {
        this.scheduler = scheduler;
        this.key = key;
        this.statistics = statistics;
        this.candidates = List.copyOf(candidates);
        this.served = List.copyOf(served);
        // A loop, not a stream: every decided layer of a new scheduler makes a trial, mostly interpreted code then.
        String[] names = new String[this.served.size()];
        for (int i = 0; i < names.length; i++) {
            names[i] = this.served.get(i).name();
        }
        this.servedNames = List.of(names);
        this.predicted = predicted;
        this.best = best;
        this.firstProvisional = firstProvisional(best, this.served, predicted);
        this.why = why;
        this.eliminates = eliminates;
        this.predictingNanos = predictingNanos;
        this.provisional = provisional;
        this.recheck = recheck;
        int n = served.size();
        this.formMillis = new double[n];
        this.predictedMillis = new double[n];
        for (int i = 0; i < n; i++) {
            this.formMillis[i] = formMillis.getOrDefault(served.get(i).name(), 0.0);
            Double millis = predicted.get(served.get(i).name());
            this.predictedMillis[i] = millis == null ? Double.MAX_VALUE : millis;
        }
        cut = new boolean[n];
        pledgeShare = new double[n];
        pledgedCalls = new int[n];
        eliminatedOnOne = new boolean[n];
        jitCompiled = new boolean[n];
        for (int i = 0; i < n; i++) {
            jitCompiled[i] = JitWatch.compiledByJit(this.served.get(i));
        }
        servedCold = new boolean[n];
        samples = new double[n][SAMPLES];
        sampleCount = new int[n];
        servedMillis = new double[n];
        servedCalls = new int[n];
        active = new boolean[n];
        Arrays.fill(active, true);
        failed = new boolean[n];
    }

    /** A trial that is over before it starts: the decision made without live calls (stored, predicted, forced). */
    static LiveTrial decided(Decision decision) {
        LiveTrial t = new LiveTrial(null, null, null, List.of(), List.of(), Map.of(), null, null, false, 0, null,
                Map.of(), false);
        t.decision = decision;
        return t;
    }

    /** The decision once made, else null (the layer serves its calls through {@link #next()}). */
    public Decision decision() {
        return decision;
    }

    /** The decision, or while the trial runs one that says so (its candidates' predictions, source DECIDING). */
    public Decision decisionOrProvisional() {
        Decision d = decision;
        return d != null ? d : provisional;
    }

    /**
     * The candidates that serve in turn, by the index {@link #next()} returns; for a trial decided before it started,
     * the decided one.
     */
    public List<String> names() {
        Decision d = decision;
        if (served.isEmpty() && d != null) {
            return List.of(d.chosen());
        }
        return servedNames;
    }

    /**
     * Which candidate serves the next call: the decided one once the trial is over.
     *
     * @throws LacunaException where every candidate failed (the first failure's code, and it as the cause)
     */
    public synchronized int next() {
        Decision d = decision;
        if (d != null) {
            int chosen = names().indexOf(d.chosen());
            if (chosen >= 0) {
                return chosen;
            }
        }
        samplerCalls++;
        int heldTurn = takingOver ? turn : -1;
        takingOver = false;
        while (true) {
            int pick = -1;
            for (int k = 0; k < served.size(); k++) {
                int i = (turn + k) % served.size();
                // Ties in rotation, except between candidates not started yet: the best-predicted starts first (served
                // is in predicted order), but for a sampler's first call after taking over, which starts with the one
                // it served as one of the others. After the dense path that serves ahead of a sparse candidate
                // predicted best, the rotation went on to the next dense path, whose first call (a widened weight)
                // then left the budget no room for the sparse one: at 4 x 128 tokens auto never tried 2:4 on the FFN
                // layers and stayed 1.04x fastest-measured (bench/results/schedule-cpu-20261207-0119.md).
                if (active[i] && (pick < 0 || sampleCount[i] < sampleCount[pick]
                        || sampleCount[i] == sampleCount[pick] && pick != heldTurn && servedCalls[i] == 0
                        && servedCalls[pick] == 0 && i < pick)) {
                    pick = i;
                }
            }
            if (pick < 0) {
                return unfailed("LiveTrial.next");
            }
            if (eliminates && warmRetryNote == null) {
                releaseReservation();
                // A sample of a started candidate takes its share of the pledge back before it asks: within that
                // share it is served whatever the deciding spent meanwhile (the pledge was made for it).
                double share = takePledgeShare(pick);
                boolean starting = servedCalls[pick] == 0;
                double expected = expectedMillis(pick, starting);
                // The best so far (expected 0) is never cut: it costs nothing beyond itself, and its calls fill its
                // own samples ({@link #complete()}), so a spent budget ends the trial on the others alone. Nor is a
                // candidate whose cut was lifted to confirm its prediction, though its calls are reserved as any.
                if (expected > 0) {
                    // A candidate starts only with the means to be judged: its first call (no sample) and
                    // MIN_SAMPLES samples after it, pledged together, so that trials deciding in the same forward
                    // do not each pay a first call the budget then leaves without a sample (at 1 x 32 tokens every
                    // signature paid blas-dense's first call, converting its weight, and none took a sample of it:
                    // bench/results/schedule-cpu-20261206-2229.md).
                    double sampleShare = starting ? expectedMillis(pick, false) : 0;
                    boolean pledgedFor = share > 0 && expected <= share * (1 + 1e-9);
                    double need = expected + MIN_SAMPLES * sampleShare;
                    if (pick != confirming && !pledgedFor
                            && scheduler.trialCommittedMillis() + need > scheduler.trialBudgetMillis()
                            && !liftsCut(pick)) {
                        int best = bestSoFar();
                        // What other calls under way and other candidates' samples hold may be given back (their
                        // samples taken, their trials decided): a candidate the budget affords beside what is spent
                        // is put off for a few of the sampler's calls, not cut. At 16 x 128 tokens trials deciding in
                        // one forward cut 2:4, predicted best, on four signatures while 39 of the 69 ms were spent
                        // in the end (bench/results/schedule-cpu-20261207-0135.md).
                        boolean heldByOthers = scheduler.choosingSpentMillis() + need <= scheduler.trialBudgetMillis()
                                && deferredCalls < MAX_DEFERRED_CALLS;
                        if (active[best] && (samplerCalls <= 1 || heldByOthers)) {
                            // The forward's share (the budget) grows while its layers first ask: put off, not cut;
                            // the share of its pledge taken above stays pledged for the sample it did not take.
                            if (share > 0) {
                                pledgedCalls[pick]++;
                                scheduler.reserve(share);
                            }
                            deferredCalls += samplerCalls <= 1 ? 0 : 1;
                            pick = best;
                        } else {
                            cut[pick] = true;
                            active[pick] = false;
                            releasePledge(pick);
                            continue;
                        }
                    } else {
                        // Held until the call reports: another trial deciding in the same forward sees it committed.
                        reserved = expected;
                        reservedFor = pick;
                        scheduler.reserve(expected);
                        if (sampleShare > 0) {
                            pledgeShare[pick] = sampleShare;
                            pledgedCalls[pick] = MIN_SAMPLES;
                            scheduler.reserve(MIN_SAMPLES * sampleShare);
                        }
                    }
                }
            }
            turn = (pick + 1) % served.size();
            return pick;
        }
    }

    /**
     * What serving candidate {@code i} next is expected to spend from the scheduler's trial budget (0 for the best so
     * far): its call beyond the best so far's (its conversion on a first call), what the trial's other layers' calls
     * of the round would count if {@code i} proved the faster (they serve the best so far meanwhile, and the report
     * counts them beyond the winner), and the round's bookkeeping (each layer's, at what the scheduler's trial calls
     * have cost so far on average). It must fit beside what is spent and what other trials' calls under way have
     * reserved ({@link Scheduler#trialCommittedMillis()}): a trial stops before an expected overrun, not after it.
     */
    private double expectedMillis(int i, boolean firstCall) {
        int best = bestSoFar();
        if (i == best) {
            return 0;
        }
        double call = expectedCallMillis(i);
        double reference = referenceMillis(best);
        int others = Math.max(0, layers.size() - 1);
        double expected = Math.max(0, call + (firstCall ? formMillis[i] : 0) - reference)
                + others * Math.max(0, reference - call)
                + Math.max(1, layers.size()) * scheduler.trialBookkeepingMillisPerCall();
        return expected;
    }

    /**
     * What a call of candidate {@code i} is expected to take, ms: its lower median; before a sample, the lesser of its
     * prediction and the mean of the calls it served (its first call, a widened weight's included, or the other
     * layers' calls): a dense path predicted 4x slower than 2:4 that served its first call as fast was otherwise cut,
     * its prediction taken over its call; before any call, its prediction.
     */
    private double expectedCallMillis(int i) {
        return sampleCount[i] > 0 ? lowerMedian(i) : servedCalls[i] > 0
                ? Math.min(predictedOf(i), servedMillis[i] / servedCalls[i]) : predictedOf(i);
    }

    /**
     * Releases one sample's share of what candidate {@code i}'s start pledged ({@link #next()}), if any is left, and
     * returns it (0 where none was left), ms.
     */
    private double takePledgeShare(int i) {
        if (pledgedCalls[i] == 0) {
            return 0;
        }
        pledgedCalls[i]--;
        scheduler.reserve(-pledgeShare[i]);
        return pledgeShare[i];
    }

    /** Releases what candidate {@code i}'s start pledged for its samples and has not taken yet. */
    private void releasePledge(int i) {
        if (pledgedCalls[i] > 0) {
            scheduler.reserve(-pledgedCalls[i] * pledgeShare[i]);
            pledgedCalls[i] = 0;
        }
    }

    /**
     * Releases the pledges of candidates that serve no more in turn, and of the best so far, whose samples cost
     * nothing beyond itself (or of all, once the trial is over).
     */
    private void releaseIdlePledges(boolean all) {
        int best = all || served.isEmpty() ? -1 : bestSoFar();
        for (int i = 0; i < served.size(); i++) {
            if (all || !active[i] || i == best) {
                releasePledge(i);
            }
        }
    }

    /**
     * A forward ended ({@link Scheduler#flushLater()}): a trial none of whose layers reported a call in the last
     * {@link #QUIET_FORWARDS} forwards (a shape seen once, a model closed while it measured) gives back what its
     * sampler's call reserved and what its candidates pledged, so that it does not hold later trials' budget for the
     * scheduler's life; its next call, if one comes, asks the budget again.
     */
    synchronized void forwardEnded() {
        if (decision != null || finishing) {
            return;
        }
        if (++quietForwards >= QUIET_FORWARDS) {
            releaseReservation();
            releaseIdlePledges(true);
        }
    }

    /** The reservation of the sampler's call, released when the call reports (or fails, or the sampler asks again). */
    private void releaseReservation() {
        if (reserved > 0) {
            scheduler.reserve(-reserved);
            reserved = 0;
            reservedFor = -1;
        }
    }

    /**
     * The candidate that serves where no trial runs, by what is known now: the fastest sampled one still serving,
     * else (none sampled yet) the first provisional one.
     */
    private int bestSoFar() {
        int best = -1;
        for (int i = 0; i < served.size(); i++) {
            if (active[i] && sampleCount[i] > 0 && (best < 0 || lowerMedian(i) < lowerMedian(best))) {
                best = i;
            }
        }
        return best >= 0 ? best : Math.max(0, servedNames.indexOf(firstProvisional.name()));
    }

    /** What a call of {@code best} takes: its lower median once sampled, else its prediction. */
    private double referenceMillis(int best) {
        return sampleCount[best] > 0 ? lowerMedian(best) : predictedOf(best);
    }

    /**
     * With no candidate serving in turn (the trial is finishing, or decided for a candidate it did not serve): one
     * that has not failed, as each computes the layer's function; the fastest sampled, else the best-predicted.
     */
    private int unfailed(String call) {
        int pick = -1;
        for (int i = 0; i < served.size(); i++) {
            if (!failed[i] && sampleCount[i] > 0 && (pick < 0 || lowerMedian(i) < lowerMedian(pick))) {
                pick = i;
            }
        }
        if (pick < 0) {
            pick = bestPredictedUnfailed();
        }
        if (pick >= 0) {
            return pick;
        }
        if (firstFailure != null) {
            throw everyCandidateFailed(call, String.join(", ", layers));
        }
        throw new LacunaException(ErrorCode.INTERNAL, call, "a live trial for " + key + " has no candidate to serve"
                + " a call" + (decision == null ? "" : " (decided " + decision.chosen() + ", which it does not serve)"));
    }

    /** By {@link #names()}' index, the best-predicted candidate that has not failed; -1 if every one failed. */
    private int bestPredictedUnfailed() {
        int pick = -1;
        for (int i = 0; i < served.size(); i++) {
            if (!failed[i] && (pick < 0 || predictedOf(i) < predictedOf(pick))) {
                pick = i;
            }
        }
        return pick;
    }

    private double predictedOf(int i) {
        return predictedMillis[i];
    }

    /** The best-predicted candidate that has not failed, or null where every one failed. */
    synchronized Candidate bestUnfailed() {
        int i = bestPredictedUnfailed();
        return i < 0 ? null : served.get(i);
    }

    /**
     * The exception a call of layer(s) {@code layer} gets once every candidate failed: the first failure's code and
     * the failure as its cause, every candidate's failure named.
     */
    public synchronized LacunaException everyCandidateFailed(String call, String layer) {
        ErrorCode code = firstFailure == null ? ErrorCode.INTERNAL : firstFailure.code();
        return new LacunaException(code, call, layer + ": every candidate failed on a live call: " + failures,
                firstFailure);
    }

    /**
     * Reports a call that candidate {@code index} served in {@code millis}: a sample unless it was the reporting layer's
     * first call of it ({@code sample} false). The call that completes the trial makes the decision.
     */
    public void served(int index, double millis, boolean sample) {
        synchronized (this) {
            if (decision != null || finishing) {
                return;
            }
            if (index == reservedFor) {
                releaseReservation();
            }
            quietForwards = 0;
            servedMillis[index] += millis;
            servedCalls[index]++;
            // Read per call of a Java kernel while the trial runs (the watch reads its bean at most once per
            // JitWatch.READ_EVERY_NANOS); a decided layer's calls never ask.
            if (jitCompiled[index] && !servedCold[index] && warmRetryNote == null
                    && scheduler.jitWatch().compiling()) {
                servedCold[index] = true;
            }
            if (eliminates) {
                scheduler.countTrialCall();
            }
            if (sample && sampleCount[index] < SAMPLES) {
                // Kept in order: the lower median, read on every call while the trial runs, is then one array read.
                double[] taken = samples[index];
                int at = sampleCount[index]++;
                for (; at > 0 && taken[at - 1] > millis; at--) {
                    taken[at] = taken[at - 1];
                }
                taken[at] = millis;
            }
            eliminate();
            releaseIdlePledges(false);
            if (eliminates) {
                forwardSampled();
                // Counted as the report counts it: every call of every layer served by a candidate other than the
                // best so far, beyond the best's time (the other layers' calls as well as the sampler's). A faster
                // best found later makes the earlier calls of the one it displaced cost more: charged then.
                double extra = extraOverBestSoFar();
                scheduler.spend(extra - charged);
                charged = extra;
            }
            if (!complete()) {
                return;
            }
            finishing = true;
            releaseIdlePledges(true);
        }
        scheduler.complete(this);
    }

    /**
     * Moves this trial's share of the scheduler's forward estimate to its layers' best prediction and best lower
     * median so far (nothing before a sample): a forward runs each layer's best candidate, so its measured-to-
     * predicted ratio is the best's over the best prediction's.
     */
    private void forwardSampled() {
        int best = bestSoFar();
        if (sampleCount[best] == 0) {
            return;
        }
        double bestPredicted = Double.MAX_VALUE;
        for (int i = 0; i < served.size(); i++) {
            bestPredicted = Math.min(bestPredicted, predictedOf(i));
        }
        if (bestPredicted == Double.MAX_VALUE) {
            return;
        }
        int layerCount = Math.max(1, layers.size());
        double p = layerCount * bestPredicted;
        double m = layerCount * lowerMedian(best);
        scheduler.forwardSampled(p - forwardPredicted, m - forwardMeasured);
        forwardPredicted = p;
        forwardMeasured = m;
    }

    /** What the calls served so far cost beyond serving them all with the best candidate so far, ms. */
    private double extraOverBestSoFar() {
        int best = bestSoFar();
        double reference = referenceMillis(best);
        double extra = 0;
        for (int i = 0; i < served.size(); i++) {
            if (i != best) {
                extra += Math.max(0, servedMillis[i] - servedCalls[i] * reference);
            }
        }
        return extra;
    }

    /**
     * What this trial has spent from the scheduler's trial budget for its calls so far (its layers' bookkeeping is
     * spent apart), ms; {@code settled}: the decision's own count ({@link #extraMillis}), which replaces it.
     */
    synchronized double settle(double settled) {
        double before = charged;
        charged = settled;
        return settled - before;
    }

    /**
     * Candidate {@code index} threw {@code failure} on a live call: it has failed, serves no more calls and cannot be
     * chosen (the layer serves the call with another). Once one candidate still serves in turn and has served a call,
     * or none does, the trial completes: the scheduler decides among those that did not fail, or, if every one failed,
     * ends it undecided.
     */
    public void failed(int index, LacunaException failure) {
        synchronized (this) {
            if (decision != null || finishing || failed[index]) {
                return;
            }
            if (index == reservedFor) {
                releaseReservation();
            }
            failed[index] = true;
            active[index] = false;
            failures.add(served.get(index).name() + ": " + failure.getMessage());
            if (firstFailure == null) {
                firstFailure = failure;
            }
            releaseIdlePledges(false);
            if (activeCount() > 0 && !complete()) {
                return;
            }
            finishing = true;
            releaseIdlePledges(true);
        }
        scheduler.complete(this);
    }

    /** Whether a call can still be served: a decision, or a candidate that has not failed. */
    public synchronized boolean serving() {
        if (decision != null) {
            return true;
        }
        if (exhausted) {
            return false;
        }
        for (boolean f : failed) {
            if (!f) {
                return true;
            }
        }
        return false;
    }

    /** Every candidate failed: the scheduler ends the trial without a decision. */
    synchronized void exhaust() {
        exhausted = true;
        releaseReservation(); // nothing to release where no call reserved (fastest-measured never does)
        releaseIdlePledges(true);
    }

    /** Records the layer {@code layer} as served by this trial (its plan entry is made with the decision). */
    synchronized void joined(String layer) {
        layers.add(layer);
    }

    /**
     * Whether the layer that serves through {@code server} (an object of its own, compared by identity: two models
     * may name their layers alike) serves the candidates in turn ({@link #next()}; else the provisional one): the
     * first to ask does, and keeps doing so
     * until it is {@link #release released} or collected, or serves no call while the others serve
     * {@link #QUIET_CALLS_PER_LAYER} per layer of the trial; then the next to ask takes them.
     */
    public synchronized boolean sampledBy(Object server) {
        Object current = sampler == null ? null : sampler.get();
        if (current == server) {
            quietCalls = 0;
            return true;
        }
        if (current == null || quietCalls >= QUIET_CALLS_PER_LAYER * Math.max(1, layers.size())) {
            sampler = new WeakReference<>(server);
            quietCalls = 0;
            if (decision == null && activeCount() > 0) {
                // Its first call of each candidate is no sample whichever comes first: it starts with the one it
                // served as one of the others, so taking over changes nothing its next call computes.
                turn = provisional();
                takingOver = true;
            }
            return true;
        }
        quietCalls++;
        return false;
    }

    /**
     * The layer that serves through {@code server} takes no more calls (it was closed): if it was sampling, the next
     * layer to serve a call takes over, and the trial holds no reference to it.
     */
    public synchronized void release(Object server) {
        if (sampler != null && sampler.get() == server) {
            sampler = null;
            quietCalls = 0;
        }
    }

    /**
     * The candidate that serves the calls of the trial's other layers until the decision (by {@link #names()}'
     * index): the best-predicted one until every candidate has a sample (the best-predicted dense one where a sparse
     * candidate is predicted best: {@link #firstProvisional}), then the fastest so far; the decided one once there is
     * a decision.
     */
    public synchronized int provisional() {
        Decision d = decision;
        int index = names().indexOf(d != null ? d.chosen() : firstProvisional.name());
        if (d == null) {
            // Once the sampler has timed every candidate still serving, the fastest so far: a wrong prediction then
            // costs the other layers only the calls before that. A cut candidate served again to confirm its
            // prediction does not count until it has a sample: the others keep the measured winner meanwhile.
            int fastest = -1;
            for (int i = 0; i < served.size(); i++) {
                if (active[i] && !(i == confirming && sampleCount[i] == 0)) {
                    if (sampleCount[i] == 0) {
                        fastest = -1;
                        break;
                    }
                    fastest = fastest < 0 || lowerMedian(i) < lowerMedian(fastest) ? i : fastest;
                }
            }
            index = fastest >= 0 ? fastest : index;
        }
        if (d == null && (index < 0 || !active[index])) {
            // The best-predicted one failed on a live call: the first that still serves.
            index = -1;
            for (int i = 0; i < active.length && index < 0; i++) {
                index = active[i] ? i : -1;
            }
        }
        return index >= 0 ? index : unfailed("LiveTrial.provisional");
    }

    /**
     * The best-predicted candidate, or where that is sparse and a dense one is served, the best-predicted dense one:
     * a sparse candidate serves the other layers only once measured ahead. Its first call on each layer converts a
     * weight form the layer may never use, and the 2:4 path at 32 tokens, which calibration does not leave compiled,
     * served its first calls in 35 to 500 ms against about 1 ms once compiled: predicted ahead at 1 x 32 tokens, it
     * served the encoder's three FFN-up layers until measured, and that trial's live calls cost 58 ms beyond the
     * dense winner's (schedule-cpu-20261206-1404).
     */
    private static Candidate firstProvisional(Candidate best, List<Candidate> served,
                                              Map<String, Double> predicted) {
        if (best == null || best.dense()) {
            return best;
        }
        Candidate dense = null;
        for (Candidate c : served) {
            Double millis = predicted.get(c.name());
            if (c.dense() && millis != null && (dense == null || millis < predicted.get(dense.name()))) {
                dense = c;
            }
        }
        return dense != null ? dense : best;
    }

    synchronized List<String> layers() {
        return List.copyOf(layers);
    }

    private int activeCount() {
        int n = 0;
        for (boolean a : active) {
            n += a ? 1 : 0;
        }
        return n;
    }

    /**
     * Whether the trial has what it needs: every candidate still serving its samples, or one left that has served a
     * call (none to compare it with; one that never ran must serve before it is chosen, for it may fail too) and,
     * under {@code auto} where the others were cut or eliminated rather than failed, has {@link #MIN_SAMPLES}
     * samples, or none. The last one's further calls cost nothing beyond itself (every layer of the trial serves it
     * by then, as it would once decided), so it takes its samples in this process rather than leaving a choice of one
     * sample for the next process to re-check (at 1 x 32 tokens the budget cut every other candidate before the
     * winner's second sample, and the next two processes re-checked those choices at 2.7x and 5.2x a forward in
     * bench/results/schedule-cpu-20261206-2002.md, at 18x and 14x in schedule-cpu-20261206-2044.md). Where every other candidate was cut
     * before it served a call, one sample will do ({@link #othersCutBeforeServing}).
     */
    private boolean complete() {
        int left = activeCount();
        if (left == 0) {
            return true;
        }
        if (confirming >= 0 && minActiveSamples() >= MIN_SAMPLES) {
            // A lifted cut asks only whether the prediction holds against what was measured: every further round
            // serves the others' calls by the measured winner, which costs (30 calls and 8-12 ms per signature at
            // 4 x 128 tokens where the sparse one proved faster: bench/results/schedule-cpu-20261207-0411.md).
            return true;
        }
        if (left == 1) {
            for (int i = 0; i < served.size(); i++) {
                if (active[i]) {
                    return servedCalls[i] > 0 && (!eliminates || sampleCount[i] >= MIN_SAMPLES || firstFailure != null
                            || sampleCount[i] > 0 && othersCutBeforeServing(i));
                }
            }
        }
        for (int i = 0; i < served.size(); i++) {
            if (active[i] && sampleCount[i] < SAMPLES) {
                return false;
            }
        }
        return true;
    }

    /** The fewest samples a candidate still serving in turn has (0 where none serves). */
    private int minActiveSamples() {
        int fewest = Integer.MAX_VALUE;
        for (int i = 0; i < served.size(); i++) {
            if (active[i]) {
                fewest = Math.min(fewest, sampleCount[i]);
            }
        }
        return fewest == Integer.MAX_VALUE ? 0 : fewest;
    }

    /**
     * Whether every candidate but {@code i} was cut by the trial budget before it served a call: nothing is left to
     * compare {@code i} with, so once it has a sample (the decision is then judged on a measurement, and is final like
     * any the budget ended) its further samples would only cost the trial's bookkeeping on further forwards (at
     * 1 x 32 tokens, about as much CPU time as the deciding itself: ad hoc, 2.1 of 4.0 ms, at 23:35).
     */
    private boolean othersCutBeforeServing(int i) {
        for (int k = 0; k < served.size(); k++) {
            if (k != i && !(cut[k] && servedCalls[k] == 0)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Under {@code auto}, once every candidate still serving has a sample: those {@link #ELIMINATE_FAR_ABOVE} times
     * the best stop serving; once every one has {@link #MIN_SAMPLES}, those {@link #ELIMINATE_ABOVE} times the best.
     */
    private void eliminate() {
        if (!eliminates) {
            return;
        }
        double bestMedian = Double.MAX_VALUE;
        int fewestSamples = Integer.MAX_VALUE;
        for (int i = 0; i < served.size(); i++) {
            if (active[i]) {
                if (sampleCount[i] == 0) {
                    return;
                }
                fewestSamples = Math.min(fewestSamples, sampleCount[i]);
                bestMedian = Math.min(bestMedian, lowerMedian(i));
            }
        }
        double above = fewestSamples >= MIN_SAMPLES ? ELIMINATE_ABOVE : ELIMINATE_FAR_ABOVE;
        for (int i = 0; i < served.size(); i++) {
            if (active[i] && lowerMedian(i) > above * bestMedian) {
                active[i] = false;
                eliminatedOnOne[i] = sampleCount[i] < MIN_SAMPLES;
            }
        }
    }

    /** Candidate {@code i}'s lower median (its samples are kept in order); it must have a sample. */
    private double lowerMedian(int i) {
        return samples[i][(sampleCount[i] - 1) / 2];
    }

    /**
     * Each candidate's lower median over its samples, for those with a sample that did not fail and were not
     * eliminated on a single sample, in serving order: a candidate that failed is never chosen, whatever its earlier
     * samples, and one sample that may hold a JIT compilation or a burst of load is not judged on
     * ({@link #eliminatedOnOneSample()}).
     */
    synchronized Map<String, Double> measuredMillis() {
        Map<String, Double> measured = new LinkedHashMap<>();
        for (int i = 0; i < served.size(); i++) {
            if (sampleCount[i] > 0 && !failed[i] && !eliminatedOnOne[i]) {
                measured.put(served.get(i).name(), lowerMedian(i));
            }
        }
        return measured;
    }

    /** The candidates eliminated on one sample far behind the best, with that sample (for the reason). */
    synchronized Map<String, Double> eliminatedOnOneSample() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < served.size(); i++) {
            if (eliminatedOnOne[i] && !failed[i]) {
                out.put(served.get(i).name(), lowerMedian(i));
            }
        }
        return out;
    }

    /**
     * Whether the budget's cut of candidate {@code i} is lifted before it is made ({@link #confirmPrediction}'s rule,
     * applied when the sampler comes to it rather than once the trial is over): {@code i} is the best-predicted
     * candidate, no cut was lifted yet, and its prediction beats what the fastest other candidate served so far is
     * expected to take by {@link Scheduler#MIN_GAIN}. Cut and lifted at the end, it waited while the other layers
     * served the measured dense path, whose calls then counted beyond it where it proved faster (cold-store choosing
     * 1.1x a forward at 4 x 128 tokens, bench/results/schedule-cpu-20261207-0421.md).
     */
    private boolean liftsCut(int i) {
        if (confirmNote != null || best == null || !servedNames.get(i).equals(best.name())) {
            return false;
        }
        // The others that served a call, priced as a start is (nothing served: nothing to hold the prediction against).
        double fastest = Double.MAX_VALUE;
        for (int k = 0; k < served.size(); k++) {
            if (k != i && !failed[k] && (sampleCount[k] > 0 || servedCalls[k] > 0)) {
                fastest = Math.min(fastest, expectedCallMillis(k));
            }
        }
        if (!liftWorthy(predictedOf(i), fastest)) {
            return false;
        }
        confirming = i;
        confirmNote = liftNote(best.name(), true, predictedOf(i), fastest);
        return true;
    }

    /**
     * The rule that lifts the budget's cut of the best-predicted candidate ({@link #liftsCut} when the sampler comes
     * to it, {@link Scheduler}'s once the trial is over): its prediction is a clear gain ({@link Scheduler#MIN_GAIN})
     * on {@code fastestMillis}, what the others served or measured ({@link Double#MAX_VALUE}: nothing to hold it
     * against).
     */
    static boolean liftWorthy(double predictedMillis, double fastestMillis) {
        return fastestMillis < Double.MAX_VALUE && predictedMillis < fastestMillis * (1 - Scheduler.MIN_GAIN);
    }

    /**
     * Why a cut was lifted ({@link #confirmNote}): before it was made ({@code beforeTheCut}, against the others' calls
     * so far) or once the trial was over (against what they measured, the prediction as the trials had corrected it).
     */
    static String liftNote(String name, boolean beforeTheCut, double predictedMillis, double fastestMillis) {
        StringBuilder note = new StringBuilder("the trial budget ").append(beforeTheCut ? "would have cut " : "cut ")
                .append(name).append(beforeTheCut ? " before a sample, but its prediction (" : " before a sample, "
                        + "and its prediction (");
        FixedPoint.append(note, predictedMillis, 3).append(beforeTheCut ? " ms) beat the fastest served ("
                : " ms, as the trials had corrected the predictions) beat the fastest measured (");
        return FixedPoint.append(note, fastestMillis, 3).append(" ms): the cut was lifted to measure it").toString();
    }

    /**
     * Lifts the trial budget's cut of candidate {@code name}, predicted best, whose prediction beat what the trial
     * measured ({@link Scheduler}): it serves in turn again, the budget no longer cutting it, until it has samples of
     * its own, and the trial completes again on them, {@code note} saying why in the decision. Once per trial; false
     * where it was not cut, has failed, or a cut was lifted already.
     */
    synchronized boolean confirmPrediction(String name, String note) {
        int i = servedNames.indexOf(name);
        if (i < 0 || confirmNote != null || !cut[i] || failed[i]) {
            return false;
        }
        cut[i] = false;
        active[i] = true;
        confirming = i;
        confirmNote = note;
        finishing = false;
        return true;
    }

    /** Why a cut candidate served again to be measured ({@link #confirmPrediction}), or null. */
    synchronized String confirmNote() {
        return confirmNote;
    }

    /** Whether the trial budget cut candidate {@code name} (and the cut was not lifted). */
    synchronized boolean cutByBudget(String name) {
        int i = servedNames.indexOf(name);
        return i >= 0 && cut[i];
    }

    /** The candidates the trial budget cut (for the reason). */
    synchronized List<String> cutByBudget() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < served.size(); i++) {
            if (cut[i]) {
                out.add(served.get(i).name());
            }
        }
        return out;
    }

    /**
     * Why a decision for {@code winner} on this trial's samples is provisional, or null where it is not (a re-check
     * never is: two processes' trials have looked). A provisional choice is re-checked by the next process on a short
     * trial of the winner and its runner-up, so it is provisional only where such a trial would learn something it
     * can afford: where the trial ended on its own rules with the winner's or the runner-up's samples short (a
     * runner-up eliminated on one sample far behind, which may have held JIT compilation or a burst of load, or none
     * measured), or where a sparse winner was not confirmed against every dense path. A trial the budget ended is not
     * handed on: a re-check pays the same first calls (each converting a weight, in a JVM that has run less) from the
     * same share of its own forward, and at 1 x 32 tokens every such re-check was cut before it learnt anything, two
     * processes after the first paying 2.7x and 5.2x a forward for it (bench/results/schedule-cpu-20261206-2002.md),
     * and 18x and 14x in schedule-cpu-20261206-2044.md. Nor is a near-tie between two
     * candidates measured {@link #MIN_SAMPLES} times: reversed, it is worth at most {@link Scheduler#MIN_GAIN} of the
     * layer's call. {@link #settledNote} says what was left unmeasured.
     */
    synchronized String provisionalWhy(String winner) {
        if (recheck) {
            return null;
        }
        int w = servedNames.indexOf(winner);
        List<String> why = new ArrayList<>();
        if (cutByBudget().isEmpty()) {
            if (w >= 0 && sampleCount[w] < MIN_SAMPLES) {
                why.add(winner + " has " + sampleCount[w] + " sample" + (sampleCount[w] == 1 ? "" : "s"));
            }
            Map<String, Double> early = eliminatedOnOneSample();
            int runnerUp = runnerUp(w);
            if (runnerUp < 0 && !early.isEmpty()) {
                why.add("eliminated on one sample: " + early.keySet());
            } else if (runnerUp >= 0 && sampleCount[runnerUp] < MIN_SAMPLES) {
                why.add(servedNames.get(runnerUp) + " has " + sampleCount[runnerUp] + " sample");
            }
        }
        if (w >= 0 && !served.get(w).dense()) {
            // A dense path the budget cut is not handed on either: the re-check times the winner and its runner-up,
            // not the path left out, from the same share of its own forward.
            for (int i = 0; i < served.size(); i++) {
                if (served.get(i).dense() && !failed[i] && !cut[i] && sampleCount[i] < MIN_SAMPLES) {
                    why.add("sparse " + winner + " not confirmed against " + servedNames.get(i));
                    break;
                }
            }
        }
        return why.isEmpty() ? null : String.join("; ", why);
    }

    /**
     * The runner-up to {@code w} a re-check would time: the fastest other candidate with a sample that neither failed
     * nor was eliminated on one sample; -1 where there is none.
     */
    private int runnerUp(int w) {
        int runnerUp = -1;
        for (int i = 0; i < served.size(); i++) {
            if (i != w && sampleCount[i] > 0 && !failed[i] && !eliminatedOnOne[i]
                    && (runnerUp < 0 || lowerMedian(i) < lowerMedian(runnerUp))) {
                runnerUp = i;
            }
        }
        return runnerUp;
    }

    /**
     * For a decision for {@code winner} that is not provisional ({@link #provisionalWhy}): what it left unmeasured
     * and why no later process re-checks it (candidates the budget cut before their samples; a near-tie with a
     * runner-up measured as often as needed), or null where neither applies.
     */
    synchronized String settledNote(String winner) {
        int w = servedNames.indexOf(winner);
        List<String> notes = new ArrayList<>();
        List<String> unsampled = new ArrayList<>();
        for (int i = 0; i < served.size(); i++) {
            if (cut[i] && !failed[i] && sampleCount[i] < MIN_SAMPLES) { // the winner too, if the budget cut it
                unsampled.add(servedNames.get(i) + " (" + sampleCount[i] + ")");
            }
        }
        if (!unsampled.isEmpty()) {
            notes.add("decided within the trial budget, which cut " + unsampled + " before " + MIN_SAMPLES
                    + " samples: not handed to a later process, whose re-check would pay the same first calls from "
                    + "the same share of its forward");
        }
        int runnerUp = w < 0 ? -1 : runnerUp(w);
        if (runnerUp >= 0 && sampleCount[w] >= MIN_SAMPLES && sampleCount[runnerUp] >= MIN_SAMPLES
                && lowerMedian(runnerUp) <= lowerMedian(w) * (1 + Scheduler.MIN_GAIN)
                && lowerMedian(w) <= lowerMedian(runnerUp) * (1 + Scheduler.MIN_GAIN)) {
            notes.add("a near-tie with " + servedNames.get(runnerUp) + ", each measured " + MIN_SAMPLES
                    + "+ times: not re-checked, at most " + Math.round(Scheduler.MIN_GAIN * 100)
                    + "% of the call either way");
        }
        return notes.isEmpty() ? null : String.join("; ", notes);
    }

    /**
     * The candidates other than {@code winner} whose code the JIT compiles and that served a call while it was
     * compiling (none for a warm re-trial): a decision against them was made on times of code that may not yet have
     * been compiled, so it is re-tried once the JIT is quiet ({@link #reopenWarm}).
     */
    synchronized List<String> coldLosers(String winner) {
        if (warmRetryNote != null) {
            return List.of();
        }
        List<String> cold = new ArrayList<>();
        for (int i = 0; i < served.size(); i++) {
            if (servedCold[i] && !failed[i] && !servedNames.get(i).equals(winner)) {
                cold.add(servedNames.get(i));
            }
        }
        return cold;
    }

    /**
     * Opens the decided trial again, once, after the JIT has gone quiet: the winner and the candidates it beat while
     * they ran cold ({@link #coldLosers}) serve in turn again with fresh samples (every layer that already served a
     * candidate takes samples from its first call); the others keep their samples and serve no more. The calls count
     * from zero (the first decision settled its own), and the trial budget does not cut a re-trial once opened (the
     * scheduler opens it only where {@link #warmRetryMillis} fits): its candidates are compiled and their weights
     * converted, so it costs the slower one's extra time over a few calls, which the decision counts as choosing
     * ({@link #extraMillis}). A re-check {@link #holdUntilQuietJit held} until the JIT is quiet starts instead.
     */
    synchronized void reopenWarm() {
        if (hold == Hold.UNTIL_QUIET_JIT) {
            // A held re-check starts: nothing was measured, nothing to reset.
            hold = Hold.NONE;
            decision = null;
            return;
        }
        Decision d = decision;
        String winner = d.chosen();
        List<String> cold = coldLosers(winner);
        warmRetryNote = "re-tried warm after the JIT had compiled " + String.join(", ", cold)
                + " (the first trial measured it while the JIT compiled: " + measuredMillis() + ")";
        for (int i = 0; i < served.size(); i++) {
            boolean again = !failed[i] && (servedNames.get(i).equals(winner) || cold.contains(servedNames.get(i)));
            if (again) {
                sampleCount[i] = 0;
                cut[i] = false;
                eliminatedOnOne[i] = false;
            }
            active[i] = again;
            servedMillis[i] = 0;
            servedCalls[i] = 0;
        }
        charged = 0;
        quietCalls = 0;
        finishing = false;
        decision = null;
    }

    /**
     * What a warm re-trial of {@code winner} against {@code cold} ({@link #reopenWarm}) is expected to spend, ms: each
     * cold loser's first call and {@link #SAMPLES} samples beyond the winner at the times this trial measured (cold
     * times: an upper bound), and the bookkeeping of every layer's calls meanwhile.
     */
    synchronized double warmRetryMillis(String winner, List<String> cold) {
        int w = servedNames.indexOf(winner);
        double reference = w >= 0 && sampleCount[w] > 0 ? lowerMedian(w) : 0;
        double extra = 0;
        for (String c : cold) {
            int i = servedNames.indexOf(c);
            if (i >= 0 && sampleCount[i] > 0) {
                extra += (1 + SAMPLES) * Math.max(0, lowerMedian(i) - reference);
            }
        }
        return extra + (cold.size() + 1) * (1 + SAMPLES) * Math.max(1, layers.size())
                * scheduler.trialBookkeepingMillisPerCall();
    }

    /** Whether this is a warm re-trial ({@link #reopenWarm}). */
    synchronized boolean warmRetry() {
        return warmRetryNote != null;
    }

    /** For a warm re-trial, why it ran: the candidates measured cold and the first trial's lower medians. */
    synchronized String warmRetryNote() {
        return warmRetryNote;
    }

    /** Whether this trial re-checks a provisional choice an earlier process stored. */
    boolean recheck() {
        return recheck;
    }

    /** Live calls the candidates served (warm-ups included), all together. */
    synchronized int callCount() {
        int calls = 0;
        for (int n : servedCalls) {
            calls += n;
        }
        return calls;
    }

    /**
     * The extra time the live calls cost over serving them all with {@code winner} at {@code winnerMillis} a call:
     * what each other candidate's calls took beyond that (never below 0 per candidate). The winner's own first calls
     * are not counted: whichever candidate serves a layer pays its first call.
     */
    synchronized double extraMillis(String winner, double winnerMillis) {
        double extra = 0;
        for (int i = 0; i < served.size(); i++) {
            if (!served.get(i).name().equals(winner)) {
                extra += Math.max(0, servedMillis[i] - servedCalls[i] * winnerMillis);
            }
        }
        return extra;
    }

    synchronized List<String> failures() {
        return List.copyOf(failures);
    }

    /**
     * Holds this re-check ({@link #recheck}) before it starts: {@code storedChoice} serves as its decision until the
     * scheduler, the JIT quiet, opens it ({@link #reopenWarm}). A re-check opened while the JIT compiles times the
     * candidates' cold code, and is then re-tried warm whatever that costs.
     */
    synchronized void holdUntilQuietJit(Decision storedChoice) {
        if (!recheck || samplerCalls > 0) {
            throw new IllegalStateException("only a re-check not yet started is held");
        }
        hold = Hold.UNTIL_QUIET_JIT;
        decision = storedChoice;
    }

    synchronized void decide(Decision made) {
        decision = made;
        hold = Hold.NONE;
        releaseReservation();
    }

    /**
     * Holds this trial, opened in the scheduler's first forward, before it starts: {@code predicted} (its
     * best-predicted candidate, a dense path) serves as its decision until the forward ends. Its layers' first calls
     * are then the prediction's, as they would have been in turn (a first call is no sample), without a trial's
     * bookkeeping; at the forward's end the budget, a share of that forward, is known, and the scheduler starts the
     * trial ({@link #startAfterTheForward}) or, where it affords no other candidate, decides on the prediction
     * ({@link #startMillis}).
     */
    synchronized void holdForTheForward(Decision predicted) {
        if (recheck || samplerCalls > 0 || !predictionServesFirst()) {
            throw new IllegalStateException("only a new trial not yet started whose prediction serves first is held");
        }
        hold = Hold.THROUGH_FIRST_FORWARD;
        decision = predicted;
    }

    /** Whether this trial is held through the scheduler's first forward ({@link #holdForTheForward}). */
    synchronized boolean heldForTheForward() {
        return hold == Hold.THROUGH_FIRST_FORWARD;
    }

    /**
     * Whether this trial waits to start, decided meanwhile (held through the first forward, or a re-check held until
     * the JIT is quiet): its layers serve the decision now and every candidate in turn later, so a route extended to
     * another token count must be offered for all of them.
     */
    public synchronized boolean waitingToStart() {
        return hold != Hold.NONE;
    }

    /**
     * Whether the candidate that serves first is the best-predicted one, a dense path: a trial the budget affords
     * nothing else would choose it on its prediction, as the trial would have kept it (a sparse candidate predicted
     * best is never chosen unmeasured, and its trial always starts).
     */
    boolean predictionServesFirst() {
        return best != null && best.dense() && firstProvisional == best && servedNames.contains(best.name());
    }

    /**
     * Starts this trial, held through the scheduler's first forward: its candidates serve in turn from the next call.
     * The forward's share is known now, so the sampler's first call is not taken for a first forward's, on which a
     * candidate the budget cannot afford is put off rather than cut ({@link #next()}; one other trials' pledges hold
     * the budget from is still put off for a few calls).
     */
    synchronized void startAfterTheForward() {
        hold = Hold.NONE;
        decision = null;
        samplerCalls = Math.max(samplerCalls, 1);
    }

    /**
     * For a trial held through the first forward ({@link #holdForTheForward}): what starting each candidate other
     * than the prediction's is expected to spend from the trial budget, by name, ms: its first call (its conversion
     * included) and {@link #MIN_SAMPLES} samples, as the sampler prices a start ({@link #expectedMillis}).
     */
    synchronized Map<String, Double> startMillis() {
        int first = bestSoFar();
        Map<String, Double> needs = new LinkedHashMap<>();
        for (int i = 0; i < served.size(); i++) {
            if (i != first && active[i] && !failed[i]) {
                needs.put(servedNames.get(i), expectedMillis(i, true) + MIN_SAMPLES * expectedMillis(i, false));
            }
        }
        return needs;
    }

    String key() {
        return key;
    }

    LayerStatistics statistics() {
        return statistics;
    }

    List<Candidate> candidates() {
        return candidates;
    }

    /** Every candidate's name, in the order the layer offered them (the store's key of a choice holds them so). */
    List<String> candidateNames() {
        List<String> names = new ArrayList<>(candidates.size());
        for (Candidate c : candidates) {
            names.add(c.name());
        }
        return names;
    }

    List<Candidate> servedCandidates() {
        return served;
    }

    Map<String, Double> predicted() {
        return predicted;
    }

    Candidate best() {
        return best;
    }

    String why() {
        return why;
    }

    long predictingNanos() {
        return predictingNanos;
    }
}

package org.lacuna.api.layers;

import java.util.List;
import java.util.function.Function;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.schedule.Decision;
import org.lacuna.runtime.schedule.LinearCandidates;
import org.lacuna.runtime.schedule.LiveTrial;
import org.lacuna.runtime.schedule.Profiler;
import org.lacuna.runtime.schedule.Scheduler;

/**
 * What serves one linear layer's calls in one token bucket: the chosen candidate's call once its {@link LiveTrial}
 * has decided (or at once, where the scheduler decided without live calls), and until then the candidates in the
 * trial's turn, each call timed and reported to it (where this layer is not the one serving the candidates in turn,
 * by the trial's provisional candidate, still timed: {@link LiveTrial#sampledBy}). Every candidate computes the same
 * function, so a call's result is the layer's whichever serves it (within the dtype's tolerance). The layer's first
 * call of each candidate is served but reported as no sample: it pays the candidate's one-time costs (its weight's
 * widening, code still compiling); its later calls of it are samples. A candidate that throws has failed
 * ({@link LiveTrial#failed}) and the call goes to another, each candidate tried at most once per call; where every
 * one failed, the call throws the first failure. The host time around a call (choosing its candidate, timing and
 * reporting it) is charged as choosing and spent from the scheduler's trial budget ({@link Scheduler#chargeTrial}).
 */
final class LiveServing {
    private final LiveTrial trial;
    private final List<String> names;
    private final LinearCandidates.Call[] calls;
    /** Per candidate, whether this layer has served a call with it (racing threads may both warm it: harmless). */
    private final boolean[] warmed;
    /**
     * The decided candidate's call with the decision it serves, once known: a trial decided on calls the JIT had not
     * yet compiled re-opens once it is quiet ({@link LiveTrial#decision()} null again), and decides anew.
     */
    private volatile DecidedCall decided;

    /**
     * A decision with its candidate's call and {@link #names()} under it: one object, read once per call, so a
     * re-opened and re-decided trial never pairs one decision's name with another's call.
     */
    record DecidedCall(Decision decision, LinearCandidates.Call call, List<String> names) {
        String chosen() {
            return decision.chosen();
        }
    }

    /** How a layer makes the call of a candidate it offers, by name. */
    private final Function<String, LinearCandidates.Call> callOf;

    /**
     * @param trial  the scheduler's answer: decided already, or deciding on this layer's calls
     * @param callOf the call of each candidate the layer offers, by name
     */
    LiveServing(LiveTrial trial, Function<String, LinearCandidates.Call> callOf) {
        this.trial = trial;
        this.callOf = callOf;
        // A decided trial names its chosen candidate alone, but for one that waits to be re-opened (a held re-check, a
        // warm re-trial): it names every candidate it will serve then.
        this.names = trial.names();
        this.calls = new LinearCandidates.Call[names.size()];
        for (int i = 0; i < calls.length; i++) {
            calls[i] = callOf.apply(names.get(i));
        }
        this.warmed = new boolean[calls.length];
    }

    /**
     * The candidates that may serve this route's calls, the offers a smaller token count must have: the decided one
     * once the trial decided, every one it serves until then (and while it waits to start, decided meanwhile).
     */
    List<String> names() {
        DecidedCall d = decidedCall();
        return d == null || trial.waitingToStart() ? names : d.names();
    }

    /** The layer is closed: it serves no more calls, so the trial's samples pass to another layer. */
    void release() {
        trial.release(this);
    }

    /** The decision, or while the trial runs one that says so. */
    Decision decision() {
        return trial.decisionOrProvisional();
    }

    /**
     * The decided candidate's call with its decision, or null while the trial still takes samples. Made once per
     * decision (a decided route asks on every call of a smaller token count); a race only makes it twice.
     */
    DecidedCall decidedCall() {
        Decision d = trial.decision();
        if (d == null) {
            return null;
        }
        DecidedCall known = decided;
        if (known != null && known.decision() == d) {
            return known;
        }
        // Among the served ones, except where another session's stored choice was taken.
        int index = names.indexOf(d.chosen());
        LinearCandidates.Call call = index >= 0 ? calls[index] : callOf.apply(d.chosen());
        known = new DecidedCall(d, call, names.size() == 1 && index == 0 ? names : List.of(d.chosen()));
        if (index >= 0 && d.source() == Decision.Source.DECIDING) {
            // A trial held through the first forward: the prediction serves this layer's call now, so should the
            // trial start, the layer's next call of it is a sample, not a first call.
            warmed[index] = true;
        }
        decided = known;
        return known;
    }

    /**
     * Serves one call with the candidate the trial names, timed on the device and reported; a candidate that throws
     * has failed and the call goes to the next, at most one try per candidate. The trial's bookkeeping is charged to
     * choosing; the call is not (what it costs beyond the chosen candidate's time, the scheduler counts when the trial
     * decides).
     *
     * @throws LacunaException the first failure, where every candidate failed; a decided candidate's own failure
     */
    void serve(Scheduler scheduler, String layer, Profiler profiler, DeviceArray x, DeviceArray y) {
        LacunaException failure = null;
        String failedName = null;
        for (int attempt = 0; attempt <= calls.length; attempt++) {
            long started = System.nanoTime();
            long startedCpu = ChoosingTime.cpuNanos();
            DecidedCall chosen = decidedCall();
            if (chosen != null) {
                // Decided meanwhile (perhaps by this call's failure): the decided candidate serves, once.
                ChoosingTime.charge(scheduler, System.nanoTime() - started, ChoosingTime.cpuNanos() - startedCpu);
                if (chosen.chosen().equals(failedName)) {
                    throw failure;
                }
                run(profiler, layer, chosen.chosen(), chosen.call(), x, y);
                return;
            }
            if (!trial.serving()) {
                throw trial.everyCandidateFailed("Linear.forward", layer);
            }
            boolean sampling = trial.sampledBy(this);
            int which = sampling ? trial.next() : trial.provisional();
            // A layer's later calls of a candidate are samples whichever layer of the signature serves them (the same
            // shapes): the others' calls of the provisional candidate fill its samples while the sampler serves the
            // rest, so a trial takes fewer forwards.
            boolean sample = warmed[which];
            LinearCandidates.Call call = calls[which];
            double millis;
            try (DeviceTimer timer = scheduler.timer()) {
                long bookkeeping = System.nanoTime() - started;
                ChoosingTime.chargeTrial(scheduler, bookkeeping, ChoosingTime.cpuNanos() - startedCpu);
                try {
                    timer.start();
                    run(profiler, layer, names.get(which), call, x, y);
                    millis = timer.stopMillis();
                } catch (LacunaException e) {
                    trial.failed(which, e);
                    failure = failure == null ? e : failure;
                    failedName = names.get(which);
                    continue;
                }
            }
            long reporting = System.nanoTime();
            long reportingCpu = ChoosingTime.cpuNanos();
            warmed[which] = true;
            trial.served(which, millis, sample);
            long reported = System.nanoTime() - reporting;
            ChoosingTime.chargeTrial(scheduler, reported, ChoosingTime.cpuNanos() - reportingCpu);
            return;
        }
        // Every try failed without the trial running out of candidates (other threads' failures raced this call's).
        throw new LacunaException(failure.code(), "Linear.forward", layer + ": no candidate served the call in "
                + (calls.length + 1) + " tries", failure);
    }

    /** Runs the decided candidate (from {@link #decidedCall()}), timed under its name where profiled. */
    void serveDecided(DecidedCall decided, String layer, Profiler profiler, DeviceArray x, DeviceArray y) {
        run(profiler, layer, decided.chosen(), decided.call(), x, y);
    }

    private static void run(Profiler profiler, String layer, String candidate, LinearCandidates.Call call,
                            DeviceArray x, DeviceArray y) {
        if (profiler.recording()) {
            profiler.time(layer, candidate, "linear", () -> call.run(x, y));
        } else {
            call.run(x, y);
        }
    }
}

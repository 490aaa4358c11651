package org.lacuna.bench.schedule;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The schedule benchmark's record as markdown: per workload, each policy's median, its ratio and its choices. */
final class ScheduleMarkdown {
    private ScheduleMarkdown() {
    }

    @SuppressWarnings("unchecked")
    static String render(Map<String, Object> record) {
        StringBuilder s = new StringBuilder("# Scheduler benchmark: auto vs fastest-measured vs fixed choices\n\n");
        s.append("- device: ").append(record.get("device")).append('\n');
        s.append("- date: ").append(record.get("date")).append('\n');
        if (record.get("build") instanceof Map<?, ?> build) {
            s.append("- commit: ").append(build.get("commit")).append(" (branch ").append(build.get("branch"))
                    .append(", uncommitted changes: ").append(build.get("uncommittedChanges")).append(")\n");
        }
        s.append(String.format(Locale.ROOT, "- calibration (once per device, then stored): %.0f ms%n",
                (Double) record.get("calibrationMillis")));
        if (record.get("plannedLookupNanosPerLayerCall") instanceof Double lookup) {
            s.append(String.format(Locale.ROOT, "- planned choosing once the JIT has compiled it: %.1f ns per layer "
                    + "call (a one-token 64x64 linear of %.2f us, best of several rounds of many calls)%n", lookup,
                    (Double) record.get("plannedLookupLayerCallMicros")));
        }
        s.append("- choosing cost (cold store): the host time layers spend choosing (predicting, looking plans up, a "
                + "live trial's bookkeeping, measuring before a call where a layer cannot measure on its live calls) "
                + "plus the extra time of the live calls a trial served with a candidate other than the one it chose "
                + "(each such call's time beyond the chosen candidate's lower median, summed per candidate, never "
                + "below 0; a losing candidate's first call, its weight's conversion included, counts whole), over "
                + "every forward until the last trial decided. Host time is wall-clock time; beside it, the choosing "
                + "thread's CPU time in the sections that decide (decisions, a trial's bookkeeping; a planned lookup "
                + "is wall time alone): on 2 vCPUs the difference is mostly what the JIT's compiler threads and the "
                + "collector took of the choosing thread's core. Under auto choosing (the trials' extra time and the CPU "
                + "time deciding) is bounded by a budget, a share of the predicted forward (corrected by what the trials measure: the trials' layers' "
                + "best lower medians over their best predictions, within 1-4x); a trial the budget ended decides for good on what "
                + "it measured (its reason names what the budget left unmeasured); a choice a re-check could still learn "
                + "about (a runner-up eliminated on one sample with no other measured, a winner short of samples on a "
                + "trial that ended on its own rules, a sparse winner not confirmed against a dense path, a Java kernel "
                + "timed while the JIT compiled, which is re-tried warm in the same process first) is stored "
                + "provisional. Warm "
                + "store: the next process, a JVM of its own started by the bench on the file the cold run wrote "
                + "(after what the cold phase ran before it: the probe's predicted-only forward and, for the encoder, "
                + "the twin network under every policy on in-memory stores; so its JIT is as warm as the cold phase's and "
                + "none of the measured network's weight forms is made): it re-checks the provisional choices on "
                + "short trials (chosen vs runner-up; a choice the prediction agrees with whose runner-up was "
                + "measured slower is confirmed without one) and stores them confirmed; its host time choosing plus its "
                + "re-check calls' extra time, until decided. Confirmed store: the process after that, a JVM of its "
                + "own too, every choice read: its host time choosing.\n");
        s.append("- method: every policy's forwards on a cold store until its choices are made (each cold phase "
                + "after the JIT's compilation queue went quiet: no change in its total compilation time for "
                + ScheduleBenchMain.JIT_QUIET_MILLIS + " ms, at most " + ScheduleBenchMain.JIT_QUIET_MAX_MILLIS
                + " ms), then up to ")
                .append(record.get("rounds")).append(" interleaved rounds (the policies' order rotating from round to "
                        + "round) of one timed run per policy: after switching to the policy's scheduler, one untimed "
                        + "forward (its layers plan again), then N forwards back to back, N the same for every policy "
                        + "(enough for about " + (int) ScheduleBenchMain.TIMED_RUN_MILLIS + " ms at the sizing "
                        + "forwards' median), their mean the round's sample (within a budget of ")
                .append(record.get("budgetMinutes")).append(" minutes for the whole run); medians of the rounds. ")
                .append("Ratios are the policy's median over fastest-measured's median, in the same run. ")
                .append("Noisy 2-vCPU machine shared with other jobs: differences of a few percent are noise.\n");
        for (ScheduleBenchMain.Workload w : (List<ScheduleBenchMain.Workload>) record.get("workloads")) {
            s.append("\n## ").append(w.name()).append(" — ").append(w.input()).append("\n\n");
            double reference = w.policies().stream().filter(p -> p.policy().equals("fastest-measured")).findFirst()
                    .orElseThrow().medianMillis();
            s.append("| policy | median ms | vs fastest-measured | first run ms (cold) | forwards to decide | "
                    + "choosing ms (cold: host + slower live calls) | host CPU ms deciding | choices |\n"
                    + "|---|---|---|---|---|---|---|---|\n");
            for (ScheduleBenchMain.PolicyRun p : w.policies()) {
                s.append(String.format(Locale.ROOT, "| %s | %.1f | %.3f | %.1f | %d | %.1f (%.1f + %.1f) | %.1f | %s |%n",
                        p.policy(), p.medianMillis(), p.medianMillis() / reference, p.firstRunMillis(),
                        p.forwardsToDecide(), p.coldChoosingMillis(), p.coldHostChoosingMillis(),
                        p.coldTrialExtraMillis(), p.coldHostCpuMillis(), p.choices()));
            }
            comparison(s, w, reference);
            s.append(String.format(Locale.ROOT, "%n%d rounds of %d forwards per timed run; %.0f ms waiting for a quiet "
                    + "JIT before the cold phases. auto's choosing cost: cold store %.2f ms (%.2f ms host, of which "
                    + "%.2f ms CPU deciding, + %.2f ms of live calls served by slower candidates, over %d forwards; %.2fx its %.1f ms median "
                    + "forward; %d signatures decided for %d layer decisions), "
                    + "warm store %.2f ms (%d of the %d decisions with a choice read from the store; the other %d "
                    + "layers have a single candidate), planned %.2f us (%.5f%% of its median forward).%n",
                    w.rounds(), w.forwardsPerTimedRun(), w.jitQuietWaitMillis(), w.coldChoosingMillis(),
                    w.coldHostChoosingMillis(), w.coldHostCpuMillis(), w.coldTrialExtraMillis(),
                    w.coldForwardsToDecide(), w.coldChoosingMillis() / w.autoMedianMillis(),
                    w.autoMedianMillis(), w.coldDecisionsMade(), w.decisions(), w.warmStoreChoosingMillis(),
                    w.warmStoreStoredDecisions(), w.warmStoreChoosingDecisions(),
                    w.decisions() - w.warmStoreChoosingDecisions(), w.plannedChoosingMicros(),
                    w.plannedChoosingMicros() / 1e3 / w.autoMedianMillis() * 100));
            if (w.coldBudget() != null && w.recheck() != null) {
                ScheduleBenchMain.TrialBudget b = w.coldBudget();
                ScheduleBenchMain.Recheck r = w.recheck();
                s.append(String.format(Locale.ROOT, "auto's trial budget (cold store): predicted forward %.2f ms, "
                        + "%.2f ms as the trials measured it, budget %.2f ms, spent %.2f ms (trials' calls beyond their best so far, and CPU deciding); %d of its layer decisions "
                        + "provisional. Warm store (the next "
                        + "process, a JVM of its own): %d signatures re-checked, %d confirmed by the prediction (it "
                        + "agrees, and the runner-up was measured slower) over %d forwards, %.2f ms host (%.2f "
                        + "ms CPU deciding) + %.2f "
                        + "ms of re-check calls beyond the chosen candidates (%.2fx the median forward). Confirmed "
                        + "store (the process after, a JVM of its own): %.2f ms host choosing (%.2f ms CPU deciding) "
                        + "over %d forward(s), "
                        + "%.2f ms of trial calls, %d decisions read from the store (%.2fx the median forward; that "
                        + "JVM's first forward of the network, its code not yet compiled, took %.1f ms). A new "
                        + "scheduler in the benchmark's own warm JVM on the confirmed store: %.2f ms host choosing "
                        + "(%.2f ms CPU deciding) on its first forward (%.2fx the median forward; %d trials opened).%n",
                        b.predictedForwardMillis(), b.estimatedForwardMillis(), b.budgetMillis(), b.spentMillis(),
                        w.coldProvisionalChoices(),
                        r.rechecked(), r.confirmedByPrediction(), r.forwards(), r.hostMillis(), r.hostCpuMillis(), r.trialExtraMillis(),
                        (r.hostMillis() + r.trialExtraMillis()) / w.autoMedianMillis(),
                        r.confirmedStoreChoosingMillis(), r.confirmedStoreCpuMillis(), r.confirmedStoreForwards(),
                        r.confirmedStoreTrialExtraMillis(), r.confirmedStoreStoredDecisions(),
                        (r.confirmedStoreChoosingMillis() + r.confirmedStoreTrialExtraMillis())
                                / w.autoMedianMillis(), r.confirmedStoreFirstForwardMillis(),
                        r.sameJvmConfirmedStoreMillis(), r.sameJvmConfirmedStoreCpuMillis(),
                        r.sameJvmConfirmedStoreMillis() / w.autoMedianMillis(),
                        r.sameJvmConfirmedStoreDeciding()));
            }
            if (w.coldRepeats() != null && !w.coldRepeats().isEmpty()) {
                StringBuilder each = new StringBuilder();
                for (ScheduleBenchMain.ColdPhase c : w.coldRepeats()) {
                    each.append(each.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT,
                            "%.2f ms (%.2f host, %.2f CPU deciding, + %.2f)", c.choosingMillis(), c.hostMillis(),
                            c.hostCpuMillis(), c.trialExtraMillis()));
                }
                double median = w.coldStartsMedianMillis();
                s.append(String.format(Locale.ROOT, "auto's cold-store choosing again on %d networks of these shapes "
                        + "with weights of their own, each on a cold store of its own after the cold phases above: "
                        + "%s. With the measured network's, the median of %d cold starts: %.2f ms, %.2fx the median "
                        + "forward.%n", w.coldRepeats().size(), each, w.coldRepeats().size() + 1, median,
                        median / w.autoMedianMillis()));
            }
            if (w.jitWarmUpMillis() > 0) {
                s.append(String.format(Locale.ROOT, "JIT warm-up before the cold-store phases: every policy ran a twin "
                        + "network (same shapes, other weights, in-memory stores) until decided and for 3 to "
                        + ScheduleBenchMain.WARM_UP_FORWARDS + " forwards (until "
                        + (int) ScheduleBenchMain.WARM_UP_MILLIS_PER_POLICY + " ms have passed), %.0f ms in all, so "
                        + "no policy's choosing cost holds the compilation of kernels another policy would have "
                        + "paid for. Weight forms are made once per weight buffer for the process: auto, which runs first on the "
                        + "measured network, pays the conversions of the candidates its trials serve (none for a "
                        + "candidate the trial budget cuts before its first call); a policy after it finds those made "
                        + "and pays the others in its first run.%n", w.jitWarmUpMillis()));
            }
            s.append("\n<details><summary>auto's plan</summary>\n\n```\n").append(w.autoPlan()).append("```\n</details>\n");
        }
        return s.toString();
    }

    /**
     * auto against each policy round by round, and what choosing per layer could gain at most over each fixed choice
     * by fastest-measured's measurements (nothing for a record made before either was kept).
     */
    private static void comparison(StringBuilder s, ScheduleBenchMain.Workload w, double forwardMillis) {
        if (w.autoPaired() != null && !w.autoPaired().isEmpty()) {
            s.append("\nauto against each policy, round by round (a round times every policy in turn; ratio of "
                    + "auto's sample to the policy's, median and range over the rounds; rounds in which auto was "
                    + "faster): ");
            StringBuilder each = new StringBuilder();
            for (PolicyComparison.PairedRatio r : w.autoPaired()) {
                each.append(each.isEmpty() ? "" : "; ").append(String.format(Locale.ROOT, "%s %.3f (%.3f-%.3f, "
                        + "%d of %d)", r.policy(), r.median(), r.min(), r.max(), r.autoFaster(), r.rounds()));
            }
            s.append(each).append(".\n");
        }
        PolicyComparison.Headroom h = w.headroom();
        if (h != null && h.bestFixed() != null && h.layersCompared() > 0) {
            StringBuilder fixed = new StringBuilder();
            h.fixedMillis().forEach((policy, millis) -> fixed.append(fixed.isEmpty() ? "" : ", ").append(
                    String.format(Locale.ROOT, "%s %.2f ms (+%.1f%% of a forward)", policy, millis,
                            (millis - h.perLayerBestMillis()) / forwardMillis * 100)));
            s.append(String.format(Locale.ROOT, "%nHeadroom of per-layer choice, by fastest-measured's own measurements "
                    + "of every candidate (lower medians of its live samples) on the %d layers with a choice%s: each "
                    + "layer's fastest candidate sums to %.2f ms per forward; the choices of %s. The best fixed "
                    + "choice, %s, is %.2f ms (%.1f%% of fastest-measured's %.1f ms median forward) from the per-layer "
                    + "optimum: no policy can beat it by more here.%n", h.layersCompared(),
                    h.layersSkipped() > 0 ? " (" + h.layersSkipped() + " more left out: a candidate without a time)"
                            : "", h.perLayerBestMillis(), fixed, h.bestFixed(), h.gainOverBestFixedMillis(),
                    h.gainOverBestFixedMillis() / forwardMillis * 100, forwardMillis));
        }
    }
}

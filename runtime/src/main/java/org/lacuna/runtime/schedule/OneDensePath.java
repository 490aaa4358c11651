package org.lacuna.runtime.schedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One dense path per model, where the measurements allow it: once a scheduler's live trials have all decided, the
 * model's dense path is the one whose measured times, summed over every linear layer a dense path won (each layer of a
 * signature counted), are least; a layer whose trial chose another dense path takes the model's path where that path
 * measured within the scheduler's margin of its winner on the same calls.
 *
 * <p>Each trial times a layer's own calls, and that cannot see what one dense path does to the calls around it. On the
 * development machine (2 vCPUs, the CPU workers spinning 100 µs between jobs), the MiniLM-shaped encoder at 1 × 32
 * tokens whose trials chose OpenBLAS for its six FFN-down layers (0.785 against 0.838 ms on their own calls) and the
 * Vector API GEMM for the other eighteen ran its forward in 16.6 ms, against 13.4 ms with the Vector API GEMM
 * everywhere (schedule-cpu-20261206-1224), and plans with more OpenBLAS layers lost more (its own calls measured
 * faster, the forwards slower): the loss lands outside the layers that were timed. With the workers parking at once
 * the mixed and the single-path forwards ran level, so the cause is an interaction, not either kernel. Only
 * {@code auto} applies the rule ({@code fastest-measured} keeps each layer's fastest as measured); a sparse winner is
 * never moved (break-even is judged per layer).
 */
final class OneDensePath {
    private OneDensePath() {
    }

    /** A decided trial whose layers take dense path {@code chosen} instead, and why. */
    record Switch(LiveTrial trial, String chosen, String why) {
    }

    /**
     * The switches that put {@code decided}'s dense winners on one dense path: the path with the least measured time
     * summed over the layers dense paths won, for every dense winner it measured within {@code margin} of (a
     * fraction: 1.0 allows twice the winner's time). A path not measured in every such trial, or two paths level,
     * move nothing.
     */
    static List<Switch> of(List<LiveTrial> decided, double margin) {
        List<LiveTrial> dense = new ArrayList<>();
        Map<String, Double> summed = new LinkedHashMap<>();
        boolean mixed = false;
        for (LiveTrial t : decided) {
            Decision d = t.decision();
            if (d != null && d.source() == Decision.Source.MEASURED && t.statistics() instanceof LinearStatistics
                    && isDense(t, d.chosen())) {
                mixed |= !dense.isEmpty() && !dense.getFirst().decision().chosen().equals(d.chosen());
                dense.add(t);
            }
        }
        if (!mixed) {
            return List.of();
        }
        for (LiveTrial t : dense) {
            int layers = Math.max(1, t.layers().size());
            for (Candidate c : t.candidates()) {
                if (c.dense()) {
                    Double ms = measured(t.decision(), c.name());
                    summed.merge(c.name(), ms == null ? Double.POSITIVE_INFINITY : layers * ms, Double::sum);
                }
            }
        }
        String model = null;
        double least = Double.POSITIVE_INFINITY;
        boolean level = false;
        for (Map.Entry<String, Double> e : summed.entrySet()) {
            if (e.getValue() < least) {
                model = e.getKey();
                least = e.getValue();
                level = false;
            } else if (e.getValue() == least) {
                level = true;
            }
        }
        if (model == null || level) {
            return List.of();
        }
        List<Switch> switches = new ArrayList<>();
        for (LiveTrial t : dense) {
            Decision d = t.decision();
            if (d.chosen().equals(model)) {
                continue;
            }
            Double winner = measured(d, d.chosen());
            Double theirs = measured(d, model);
            if (winner != null && theirs != null && theirs <= winner * (1 + margin)) {
                StringBuilder why = new StringBuilder("one dense path per model: ").append(model)
                        .append(" measured within ").append(Math.round(margin * 100)).append("% of ")
                        .append(d.chosen()).append(" here (");
                FixedPoint.append(why, theirs, 3).append(" against ");
                FixedPoint.append(why, winner, 3).append(" ms) and serves the model's dense layers in least time (");
                FixedPoint.append(why, least, 3).append(" ms summed over their measured calls), so this layer takes it"
                        + " too: forwards mixing two dense paths ran slower than one path, beyond what each layer's"
                        + " own calls showed");
                switches.add(new Switch(t, model, why.toString()));
            }
        }
        return switches;
    }

    private static boolean isDense(LiveTrial t, String name) {
        for (Candidate c : t.candidates()) {
            if (c.name().equals(name)) {
                return c.dense();
            }
        }
        return false;
    }

    private static Double measured(Decision d, String name) {
        for (Decision.Estimate e : d.candidates()) {
            if (e.name().equals(name)) {
                return e.measuredMillis();
            }
        }
        return null;
    }
}

package org.lacuna.runtime.schedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One dense path per model, where the measurements allow it: once a scheduler's live trials have all decided, a
 * linear layer whose trial chose one dense path takes the dense path most of the model's layers chose instead, where
 * that path measured within {@link #WITHIN} of its winner on the same calls.
 *
 * <p>Each trial times a layer's own calls, and that cannot see what one dense path does to the calls around it. On the
 * development machine (2 vCPUs, the CPU workers spinning 100 µs between jobs), the MiniLM-shaped encoder at 1 × 32
 * tokens whose trials chose OpenBLAS for its six FFN-down layers (0.785 against 0.838 ms on their own calls) and the
 * Vector API GEMM for the other eighteen ran its forward in 16.6 ms, against 13.4 ms with the Vector API GEMM
 * everywhere (schedule-cpu-20261206-1224): the loss landed outside the layers that were timed. A layer that wins by
 * a few percent on its own calls gains less than that. Only {@code auto} applies the rule ({@code fastest-measured}
 * takes each layer's fastest as measured); a sparse winner is never moved (break-even is judged per layer).
 */
final class OneDensePath {
    /** A layer takes the model's dense path where it measured within this fraction of the layer's winner. */
    static final double WITHIN = 0.25;

    private OneDensePath() {
    }

    /** A decided trial whose layers take dense path {@code chosen} instead, and why. */
    record Switch(LiveTrial trial, String chosen, String why) {
    }

    /**
     * The switches that put {@code decided}'s dense winners on one dense path: the path whose decisions serve the
     * most layers, for every dense winner it measured within {@link #WITHIN} of. A tie between paths moves nothing.
     */
    static List<Switch> of(List<LiveTrial> decided) {
        Map<String, Integer> layersByPath = new LinkedHashMap<>();
        List<LiveTrial> dense = new ArrayList<>();
        for (LiveTrial t : decided) {
            Decision d = t.decision();
            if (d != null && d.source() == Decision.Source.MEASURED && t.statistics() instanceof LinearStatistics
                    && isDense(t, d.chosen())) {
                dense.add(t);
                layersByPath.merge(d.chosen(), Math.max(1, t.layers().size()), Integer::sum);
            }
        }
        if (layersByPath.size() < 2) {
            return List.of();
        }
        String model = null;
        int most = 0;
        boolean tie = false;
        for (Map.Entry<String, Integer> e : layersByPath.entrySet()) {
            if (e.getValue() > most) {
                model = e.getKey();
                most = e.getValue();
                tie = false;
            } else if (e.getValue() == most) {
                tie = true;
            }
        }
        if (tie) {
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
            if (winner != null && theirs != null && theirs <= winner * (1 + WITHIN)) {
                switches.add(new Switch(t, model, "one dense path per model: " + model + " measured within "
                        + Math.round(WITHIN * 100) + "% of " + d.chosen() + " here (" + FixedPoint.append(
                        new StringBuilder(), theirs, 3) + " against " + FixedPoint.append(new StringBuilder(),
                        winner, 3) + " ms) and serves " + (most) + " of the model's layers, so this layer takes it"
                        + " too: a forward mixing two dense paths ran slower than one path, beyond what each layer's"
                        + " own calls showed"));
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

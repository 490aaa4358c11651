package org.lacuna.bench.schedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lacuna.bench.measure.SampleStatistics;
import org.lacuna.runtime.schedule.Decision;
import org.lacuna.runtime.schedule.Plan;

/**
 * How far apart the policies can be on a workload and how far apart they were, for the target "auto faster than every
 * fixed choice": what the best per-layer plan could gain over each fixed choice at most (from fastest-measured's
 * measurements of every candidate on every layer), and auto's time against each policy's round by round.
 */
final class PolicyComparison {
    private PolicyComparison() {
    }

    /**
     * What choosing per layer could gain at most over each fixed choice, by fastest-measured's measurements: over the
     * layers with more than one candidate, every candidate of which it measured, the sum of each layer's fastest
     * candidate and, per fixed policy, the sum of the candidates that policy chose for those layers. Layers with one
     * candidate cost every policy the same and are left out.
     *
     * @param layersCompared      layers in the sums
     * @param layersSkipped       layers with a choice but a candidate fastest-measured has no time for (it failed)
     * @param perLayerBestMillis  the sum of each compared layer's fastest measured candidate
     * @param fixedMillis         per fixed policy, the sum of the measured times of its choices on those layers
     */
    record Headroom(int layersCompared, int layersSkipped, double perLayerBestMillis, Map<String, Double> fixedMillis) {
        /** The fixed policy whose choices sum least, or null with none. */
        String bestFixed() {
            return fixedMillis.entrySet().stream().min(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                    .orElse(null);
        }

        /** What the per-layer best plan saves over the best fixed policy's choices, ms per forward (0 with none). */
        double gainOverBestFixedMillis() {
            String best = bestFixed();
            return best == null ? 0 : fixedMillis.get(best) - perLayerBestMillis;
        }
    }

    /**
     * auto's time over another policy's, per round: the rounds interleave the policies (their order rotating), so a
     * round's two samples were taken minutes apart at most, and the ratio of the pair cancels what drifts between
     * rounds.
     *
     * @param median     the median of auto's sample over the policy's, round by round
     * @param autoFaster rounds in which auto's sample was the smaller
     */
    record PairedRatio(String policy, double median, double min, double max, int rounds, int autoFaster) {
    }

    /** The headroom from {@code fastestMeasured}'s plan and each fixed policy's ({@code fixed}: policy → plan). */
    static Headroom headroom(Plan fastestMeasured, Map<String, Plan> fixed) {
        Map<String, Plan.Entry> measured = new LinkedHashMap<>();
        for (Plan.Entry e : fastestMeasured.entries()) {
            measured.put(key(e), e);
        }
        Map<String, Map<String, String>> chosen = new LinkedHashMap<>();
        fixed.forEach((policy, plan) -> {
            Map<String, String> byLayer = new LinkedHashMap<>();
            for (Plan.Entry e : plan.entries()) {
                byLayer.put(key(e), e.decision().chosen());
            }
            chosen.put(policy, byLayer);
        });
        int compared = 0;
        int skipped = 0;
        double best = 0;
        Map<String, Double> sums = new LinkedHashMap<>();
        fixed.keySet().forEach(p -> sums.put(p, 0.0));
        for (var layer : measured.entrySet()) {
            List<Decision.Estimate> candidates = layer.getValue().decision().candidates();
            if (candidates.size() < 2) {
                continue;
            }
            boolean complete = candidates.stream().allMatch(c -> c.measuredMillis() != null)
                    && chosen.values().stream().allMatch(m -> m.containsKey(layer.getKey()));
            if (!complete) {
                skipped++;
                continue;
            }
            compared++;
            best += candidates.stream().mapToDouble(Decision.Estimate::measuredMillis).min().orElseThrow();
            for (var policy : chosen.entrySet()) {
                String pick = policy.getValue().get(layer.getKey());
                sums.merge(policy.getKey(), layer.getValue().decision().estimate(pick).measuredMillis(), Double::sum);
            }
        }
        return new Headroom(compared, skipped, best, sums);
    }

    /** auto's samples against each other policy's, round by round ({@code samples}: policy → one per round). */
    static List<PairedRatio> pairedRatios(Map<String, double[]> samples) {
        double[] auto = samples.get("auto");
        List<PairedRatio> out = new ArrayList<>();
        samples.forEach((policy, theirs) -> {
            if (policy.equals("auto")) {
                return;
            }
            int rounds = Math.min(auto.length, theirs.length);
            if (rounds == 0) {
                return;
            }
            double[] ratios = new double[rounds];
            int faster = 0;
            for (int r = 0; r < rounds; r++) {
                ratios[r] = auto[r] / theirs[r];
                faster += auto[r] < theirs[r] ? 1 : 0;
            }
            SampleStatistics stats = SampleStatistics.of(ratios);
            out.add(new PairedRatio(policy, stats.median(), stats.min(), stats.max(), rounds, faster));
        });
        return out;
    }

    /** A plan entry's key: the layer, and the signature bucket it decided in (a layer may see several). */
    private static String key(Plan.Entry e) {
        return e.layer() + " @ " + e.decision().signature();
    }
}

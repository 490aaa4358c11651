package org.lacuna.bench.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.schedule.Decision;
import org.lacuna.runtime.schedule.DeviceKey;
import org.lacuna.runtime.schedule.EfficiencyTable;
import org.lacuna.runtime.schedule.Plan;
import org.lacuna.runtime.schedule.Policy;

class PolicyComparisonTest {
    private static final EfficiencyTable TABLE = new EfficiencyTable(1e11, 1e10, 1e-6, 2, Map.of(), "test table");
    private static final DeviceKey DEVICE = new DeviceKey("cpu", "test", "test", 2, "-");

    /** Two layers whose best candidates differ: each fixed choice loses on one of them, the per-layer plan on none. */
    @Test
    void headroomSumsEachFixedChoiceAgainstThePerLayerBest() {
        Plan measured = plan(
                entry("up", "vector", Map.of("vector", 1.0, "two-four", 0.8)),
                entry("down", "vector", Map.of("vector", 2.0, "two-four", 2.5)),
                entry("attention", "kept", Map.of("kept", 3.0)));
        Map<String, Plan> fixed = new LinkedHashMap<>();
        fixed.put("fixed linear=vector", plan(entry("up", "vector", Map.of()), entry("down", "vector", Map.of()),
                entry("attention", "kept", Map.of())));
        fixed.put("fixed linear=two-four", plan(entry("up", "two-four", Map.of()), entry("down", "two-four", Map.of()),
                entry("attention", "kept", Map.of())));

        PolicyComparison.Headroom h = PolicyComparison.headroom(measured, fixed);

        // The one-candidate attention costs every policy the same: left out.
        assertEquals(2, h.layersCompared());
        assertEquals(0, h.layersSkipped());
        assertEquals(0.8 + 2.0, h.perLayerBestMillis(), 1e-12);
        assertEquals(1.0 + 2.0, h.fixedMillis().get("fixed linear=vector"), 1e-12);
        assertEquals(0.8 + 2.5, h.fixedMillis().get("fixed linear=two-four"), 1e-12);
        assertEquals("fixed linear=vector", h.bestFixed());
        assertEquals(0.2, h.gainOverBestFixedMillis(), 1e-12);
    }

    @Test
    void aLayerWithAnUnmeasuredCandidateIsLeftOutAndCounted() {
        Map<String, Double> oneFailed = new LinkedHashMap<>();
        oneFailed.put("vector", 1.0);
        oneFailed.put("csr", null);
        Plan measured = plan(entry("up", "vector", oneFailed),
                entry("down", "vector", Map.of("vector", 2.0, "csr", 4.0)));
        PolicyComparison.Headroom h = PolicyComparison.headroom(measured, Map.of("fixed linear=csr",
                plan(entry("up", "vector", Map.of()), entry("down", "csr", Map.of()))));

        assertEquals(1, h.layersCompared());
        assertEquals(1, h.layersSkipped());
        assertEquals(2.0, h.perLayerBestMillis(), 1e-12);
        assertEquals(4.0, h.fixedMillis().get("fixed linear=csr"), 1e-12);
        assertEquals(2.0, h.gainOverBestFixedMillis(), 1e-12);
    }

    @Test
    void noFixedPolicyHasNoBest() {
        PolicyComparison.Headroom h = PolicyComparison.headroom(plan(entry("up", "a", Map.of("a", 1.0, "b", 2.0))),
                Map.of());
        assertNull(h.bestFixed());
        assertEquals(0, h.gainOverBestFixedMillis());
    }

    /** The ratio is taken within each round, so a slow round slows both sides and cancels. */
    @Test
    void pairedRatiosCompareAutoWithEachPolicyRoundByRound() {
        Map<String, double[]> samples = new LinkedHashMap<>();
        samples.put("auto", new double[] {10, 20, 11});
        samples.put("fixed linear=vector", new double[] {11, 22, 10});
        samples.put("fastest-measured", new double[] {10, 20, 11});

        List<PolicyComparison.PairedRatio> ratios = PolicyComparison.pairedRatios(samples);

        assertEquals(2, ratios.size());
        PolicyComparison.PairedRatio vector = ratios.get(0);
        assertEquals("fixed linear=vector", vector.policy());
        assertEquals(3, vector.rounds());
        assertEquals(2, vector.autoFaster());
        assertEquals(20.0 / 22, vector.median(), 1e-12);
        assertEquals(10.0 / 11, vector.min(), 1e-12);
        assertEquals(1.1, vector.max(), 1e-12);
        PolicyComparison.PairedRatio same = ratios.get(1);
        assertEquals(1.0, same.median(), 1e-12);
        assertEquals(0, same.autoFaster());
    }

    private static Plan plan(Plan.Entry... entries) {
        return new Plan(DEVICE, Policy.fastestMeasured(), TABLE, List.of(entries));
    }

    /** A layer's entry choosing {@code chosen}, its candidates measured as given (a null time: not measured). */
    private static Plan.Entry entry(String layer, String chosen, Map<String, Double> measured) {
        List<Decision.Estimate> estimates = new ArrayList<>();
        measured.forEach((name, millis) -> estimates.add(new Decision.Estimate(name, "cpu." + name, 1.0, millis)));
        return new Plan.Entry(layer, new Decision("linear", "sig-" + layer, Map.of(), estimates, chosen,
                Decision.Source.MEASURED, "test", 0));
    }
}

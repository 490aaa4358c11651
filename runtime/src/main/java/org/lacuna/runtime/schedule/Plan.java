package org.lacuna.runtime.schedule;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The decisions of a model's layers, per layer in the order they first ran (a layer that saw inputs in several
 * shape buckets has an entry per bucket), with {@link #explain()} for people and {@link #toJson()} for tools.
 */
public record Plan(DeviceKey device, Policy policy, EfficiencyTable efficiency, List<Entry> entries) {
    /** One layer's decision in one bucket. */
    public record Entry(String layer, Decision decision) {
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public Plan {
        entries = List.copyOf(entries);
    }

    /** Host time the decisions of this plan took to make (entries sharing a decision count it once). */
    public long choosingNanos() {
        // By identity: a decision's equality reads its statistics, which may cost work to describe.
        java.util.Set<Decision> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        return entries.stream().map(Entry::decision).filter(seen::add).mapToLong(Decision::choosingNanos).sum();
    }

    /** Per layer: the statistics, each candidate's predicted and measured time, the choice and why. */
    public String explain() {
        StringBuilder s = new StringBuilder();
        s.append("device: ").append(device).append('\n');
        s.append("policy: ").append(policy).append("   efficiency table: ").append(efficiency.source()).append('\n');
        s.append(String.format(Locale.ROOT, "%d layer decisions, %.2f ms choosing%n", entries.size(),
                choosingNanos() / 1e6));
        for (Entry e : entries) {
            Decision d = e.decision();
            s.append('\n').append(e.layer()).append("  [").append(d.kind()).append("]\n");
            s.append("  statistics: ").append(format(d.statistics())).append('\n');
            for (Decision.Estimate c : d.candidates()) {
                s.append(String.format(Locale.ROOT, "  %s %-18s predicted %9.3f ms   measured %s%n",
                        c.name().equals(d.chosen()) ? "*" : " ", c.name(), c.predictedMillis(),
                        c.measuredMillis() == null ? "        -" : String.format(Locale.ROOT, "%9.3f ms",
                                c.measuredMillis())));
            }
            s.append("  chose ").append(d.chosen()).append(" (").append(d.source()).append(", ")
                    .append(String.format(Locale.ROOT, "%.3f ms choosing", d.choosingNanos() / 1e6)).append("): ")
                    .append(d.reason()).append('\n');
        }
        return s.toString();
    }

    /** The plan as a JSON document. */
    public String toJson() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("device", device);
        doc.put("policy", policy.toString());
        doc.put("efficiency", efficiency);
        doc.put("choosingMillis", choosingNanos() / 1e6);
        doc.put("layers", entries);
        try {
            return JSON.writeValueAsString(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a plan could not be written as JSON", e);
        }
    }

    private static String format(Map<String, Object> statistics) {
        StringBuilder s = new StringBuilder();
        statistics.forEach((k, v) -> {
            s.append(s.isEmpty() ? "" : ", ").append(k).append('=');
            if (v instanceof Double d) {
                s.append(String.format(Locale.ROOT, "%.3g", d));
            } else if (v instanceof long[] a) {
                s.append(a.length <= 8 ? java.util.Arrays.toString(a) : "[" + a.length + " offsets, max "
                        + java.util.Arrays.stream(a).max().orElse(0) + "]");
            } else {
                s.append(v);
            }
        });
        return s.toString();
    }
}

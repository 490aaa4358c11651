package org.lacuna.runtime.schedule;

import java.util.List;
import java.util.Map;

/**
 * What the scheduler chose for one layer signature, and why.
 *
 * @param signature      the bucketed statistics key the choice is shared and stored under
 * @param statistics     the statistics it was made from ({@link LayerStatistics#describe()}, made when first
 *                       read: some cost work a layer that only runs should not pay for)
 * @param candidates     every candidate with its predicted and, where measured, measured time
 * @param chosen         the winning candidate's name
 * @param choosingNanos  host time spent choosing (predicting, measuring, reading and writing the store)
 */
public record Decision(String kind, String signature, Map<String, Object> statistics, List<Estimate> candidates,
                       String chosen, Source source, String reason, long choosingNanos) {
    /** Where a choice came from. */
    public enum Source {
        ONLY_CANDIDATE, PREDICTED, MEASURED, STORED, FORCED,
        /** Not made yet: a {@link LiveTrial} is taking samples on the layer's live calls. */
        DECIDING
    }

    /** One candidate's times; {@code measuredMillis} is null where it was not measured. */
    public record Estimate(String name, String kernel, double predictedMillis, Double measuredMillis) {
    }

    public Decision {
        candidates = List.copyOf(candidates);
    }

    public Estimate estimate(String name) {
        return candidates.stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow();
    }
}

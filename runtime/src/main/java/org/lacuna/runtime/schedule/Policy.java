package org.lacuna.runtime.schedule;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * How the scheduler decides.
 *
 * @param mode   {@link Mode#AUTO} (the default: predict, measure only where the best two predictions are close or a
 *               sparse winner needs confirming), {@link Mode#FASTEST_MEASURED} (measure every candidate) or
 *               {@link Mode#PREDICTED_ONLY} (never measure)
 * @param forced a candidate name per layer kind ({@code linear}, {@code sparse-conv}, {@code attention}) that wins
 *               wherever the layer offers it, for kernel-tuning users; layers that do not offer it decide by the mode
 */
public record Policy(Mode mode, Map<String, String> forced) {
    public enum Mode {
        AUTO("auto"), FASTEST_MEASURED("fastest-measured"), PREDICTED_ONLY("predicted-only");

        private final String label;

        Mode(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    public Policy {
        forced = Map.copyOf(forced);
    }

    public static Policy auto() {
        return new Policy(Mode.AUTO, Map.of());
    }

    public static Policy fastestMeasured() {
        return new Policy(Mode.FASTEST_MEASURED, Map.of());
    }

    public static Policy predictedOnly() {
        return new Policy(Mode.PREDICTED_ONLY, Map.of());
    }

    /** This policy with {@code candidate} forced for layers of {@code kind}. */
    public Policy forcing(String kind, String candidate) {
        Map<String, String> copy = new LinkedHashMap<>(forced);
        copy.put(kind, candidate);
        return new Policy(mode, copy);
    }

    public Optional<String> forcedFor(String kind) {
        return Optional.ofNullable(forced.get(kind));
    }

    /**
     * Parses {@code auto}, {@code fastest-measured}, {@code predicted-only}, optionally followed by forced kernels,
     * comma-separated: {@code auto,linear=blas-dense,sparse-conv=implicit-sorted}. A bare {@code kind=candidate}
     * list means auto plus those.
     */
    public static Policy parse(String text) {
        String call = "Policy.parse";
        if (text == null || text.isBlank()) {
            throw InvalidInputException.argument(call, "empty scheduling policy");
        }
        Mode mode = Mode.AUTO;
        Map<String, String> forced = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            String token = part.trim().toLowerCase(Locale.ROOT);
            int eq = token.indexOf('=');
            if (eq > 0 && eq < token.length() - 1) {
                String kind = token.substring(0, eq).trim();
                if (!kind.equals("linear") && !kind.equals("sparse-conv") && !kind.equals("attention")) {
                    throw InvalidInputException.argument(call, "unknown layer kind '" + kind
                            + "' in policy '" + text + "': use linear, sparse-conv or attention");
                }
                forced.put(kind, token.substring(eq + 1).trim());
                continue;
            }
            Mode found = null;
            for (Mode m : Mode.values()) {
                if (m.label.equals(token)) {
                    found = m;
                }
            }
            if (found == null) {
                throw InvalidInputException.argument(call, "unknown scheduling policy '" + token + "' in '" + text
                        + "': use auto, fastest-measured, predicted-only and/or kind=candidate");
            }
            mode = found;
        }
        return new Policy(mode, forced);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(mode.label);
        forced.forEach((k, v) -> s.append(',').append(k).append('=').append(v));
        return s.toString();
    }
}

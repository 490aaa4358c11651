package org.lacuna.bench.gpu;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.lacuna.bench.Params;
import org.lacuna.runtime.backend.LacunaConfig;
import org.lacuna.runtime.data.DType;

/**
 * The cases of the {@code attention} benchmark: batch · sequence = 16384 tokens, sequences of 512 to 8192 tokens,
 * 16 heads of 64 or 128, fp16, non-causal; each timed dense and at keep ratios 0.7, 0.5 and 0.3.
 * {@code bench/anchors/attention_anchor.py} holds the same list ({@code AttentionSweepTest} compares them): the case ids
 * are how the run record pairs PyTorch's timings with Lacuna's.
 */
final class AttentionSweep {
    static final int TOKENS = 16_384;
    static final int HEADS = 16;
    static final int[] SEQUENCE_LENGTHS = {512, 1024, 2048, 4096, 8192};
    static final int[] HEAD_DIMS = {64, 128};
    static final double[] KEEP_RATIOS = {0.7, 0.5, 0.3};
    /** Environment variable (and {@code lacuna.attentionCases}) naming the cases to run. */
    static final String CASES_KEY = "attentionCases";

    private AttentionSweep() {
    }

    /** One problem: {@code tokens / sequenceLength} sequences, {@code HEADS} heads of {@code headDim}. */
    record AttentionCase(int headDim, int sequenceLength, DType dtype, int tokens) {
        AttentionCase(int headDim, int sequenceLength, DType dtype) {
            this(headDim, sequenceLength, dtype, TOKENS);
        }

        String id() {
            return "attn-d" + headDim + "-s" + sequenceLength + "-" + dtype.kernelName();
        }

        int batch() {
            return tokens / sequenceLength;
        }

        int heads() {
            return HEADS;
        }

        int width() {
            return HEADS * headDim;
        }

        /** Forward FLOPs when every sequence keeps {@code kept} tokens: Q·Kᵀ and P·V, 2·kept²·headDim each. */
        long flops(int kept) {
            return 4L * batch() * HEADS * headDim * kept * (long) kept;
        }

        Map<String, Object> params() {
            return Params.of("case", id(), "headDim", headDim, "sequenceLength", sequenceLength, "batch", batch(),
                    "heads", HEADS, "dtype", dtype.kernelName(), "causal", false);
        }
    }

    static List<AttentionCase> all() {
        List<AttentionCase> cases = new ArrayList<>();
        for (int d : HEAD_DIMS) {
            for (int s : SEQUENCE_LENGTHS) {
                cases.add(new AttentionCase(d, s, DType.F16));
            }
        }
        return cases;
    }

    static final Map<String, List<AttentionCase>> PRESETS = Map.of(
            "all", all(),
            "headline", List.of(new AttentionCase(64, 2048, DType.F16), new AttentionCase(128, 2048, DType.F16),
                    new AttentionCase(128, 8192, DType.F16)),
            "smoke", List.of(new AttentionCase(64, 512, DType.F16), new AttentionCase(128, 1024, DType.F16)));

    static String configuredSelection() {
        return LacunaConfig.get(CASES_KEY).orElse("all");
    }

    /**
     * Cases named by a comma-separated spec of presets ({@code all}, {@code headline}, {@code smoke}) or regular
     * expressions searched in the ids of {@code all}; empty means {@code all}, duplicates keep their first place.
     */
    static List<AttentionCase> select(String spec) {
        List<String> items = new ArrayList<>();
        for (String item : (spec == null ? "" : spec).split(",")) {
            if (!item.isBlank()) {
                items.add(item.strip());
            }
        }
        if (items.isEmpty()) {
            items.add("all");
        }
        Map<String, AttentionCase> chosen = new LinkedHashMap<>();
        for (String item : items) {
            List<AttentionCase> matched = Optional.ofNullable(PRESETS.get(item)).orElseGet(() -> matching(item));
            matched.forEach(c -> chosen.putIfAbsent(c.id(), c));
        }
        return List.copyOf(chosen.values());
    }

    private static List<AttentionCase> matching(String item) {
        Pattern pattern;
        try {
            pattern = Pattern.compile(item);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("case selection item '" + item + "' is no preset or regular expression: "
                    + e.getDescription());
        }
        List<AttentionCase> matched = all().stream().filter(c -> pattern.matcher(c.id()).find()).toList();
        if (matched.isEmpty()) {
            throw new IllegalArgumentException("case selection item '" + item + "' matches no case (presets: "
                    + String.join(", ", PRESETS.keySet().stream().sorted().toList()) + ")");
        }
        return matched;
    }
}

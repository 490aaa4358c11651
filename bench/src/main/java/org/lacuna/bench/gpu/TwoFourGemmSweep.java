package org.lacuna.bench.gpu;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.lacuna.runtime.data.DType;

/**
 * The cases of the 2:4 sparse GEMM benchmark and how a run selects them. {@code bench/anchors/two_four_gemm_anchor.py}
 * defines the same list and the same selection syntax (TwoFourGemmSweepTest checks that they agree), so that one
 * {@code LACUNA_TWO_FOUR_GEMM_CASES} setting makes both sides measure the same problems.
 *
 * <p>A selection is a comma-separated list of items, each a preset ({@link #PRESETS}), a custom problem
 * {@code TOKENSxOUTxIN} with an optional {@code -f16} / {@code -bf16}, or a regular expression searched in the ids of
 * {@code everything}. Empty means {@code all}; a case named twice keeps its first place. {@code all} puts the
 * headline cases first, so a run cut short still has what matters most.
 */
public final class TwoFourGemmSweep {
    /** The configuration key: system property {@code lacuna.twoFourGemmCases}, or {@code LACUNA_TWO_FOUR_GEMM_CASES}. */
    public static final String CONFIG_KEY = "twoFourGemmCases";

    static final int[] SQUARE_SIZES = {1024, 2048, 4096, 8192, 16384};
    static final int[] TOKENS = {1, 16, 128, 2048, 16384};
    static final List<DType> DTYPES = List.of(DType.F16, DType.BF16);

    /** A linear layer whose weight 2:4 pruning targets, as W[out, in]. */
    record LayerShape(String model, String layer, int out, int in) {
        boolean isFeedForward() {
            return layer.startsWith("ffn");
        }
    }

    static final List<LayerShape> LAYER_SHAPES = List.of(
            new LayerShape("bert-base", "attn-proj", 768, 768),
            new LayerShape("bert-base", "ffn-up", 3072, 768),
            new LayerShape("bert-base", "ffn-down", 768, 3072),
            new LayerShape("minilm", "ffn-up", 1536, 384),
            new LayerShape("minilm", "ffn-down", 384, 1536),
            new LayerShape("llama-7b", "ffn-up", 11008, 4096),
            new LayerShape("llama-7b", "ffn-down", 4096, 11008));

    static final Map<String, Supplier<List<TwoFourGemmCase>>> PRESETS = presets();

    private static final Pattern CUSTOM = Pattern.compile("(\\d+)x(\\d+)x(\\d+)(?:-(f16|bf16))?");

    private TwoFourGemmSweep() {
    }

    private static Map<String, Supplier<List<TwoFourGemmCase>>> presets() {
        Map<String, Supplier<List<TwoFourGemmCase>>> presets = new LinkedHashMap<>();
        presets.put("headline", TwoFourGemmSweep::headline);
        presets.put("squares", TwoFourGemmSweep::squares);
        presets.put("layers", () -> layers(DType.F16));
        presets.put("layers-bf16", () -> layers(DType.BF16));
        presets.put("all", () -> distinct(concat(headline(), squares(), layers(DType.F16))));
        presets.put("everything", () -> distinct(concat(headline(), squares(), layers(DType.F16), layers(DType.BF16))));
        presets.put("smoke", () -> List.of(TwoFourGemmCase.square(1024, DType.F16),
                TwoFourGemmCase.layer("bert-base", "ffn-up", 3072, 768, 128, DType.F16)));
        return java.util.Collections.unmodifiableMap(presets);
    }

    /** What a short run must not miss: the big square, the FFN layers at prefill sizes, decode-sized batches. */
    static List<TwoFourGemmCase> headline() {
        List<TwoFourGemmCase> cases = new ArrayList<>();
        cases.add(TwoFourGemmCase.square(8192, DType.F16));
        for (LayerShape shape : LAYER_SHAPES) {
            if (shape.isFeedForward()) {
                for (int tokens : new int[] {2048, 16384}) {
                    cases.add(layer(shape, tokens, DType.F16));
                }
            }
        }
        for (LayerShape shape : LAYER_SHAPES) {
            for (int tokens : new int[] {1, 16}) {
                cases.add(layer(shape, tokens, DType.F16));
            }
        }
        return cases;
    }

    static List<TwoFourGemmCase> squares() {
        List<TwoFourGemmCase> cases = new ArrayList<>();
        for (int n : SQUARE_SIZES) {
            for (DType dtype : DTYPES) {
                cases.add(TwoFourGemmCase.square(n, dtype));
            }
        }
        return cases;
    }

    static List<TwoFourGemmCase> layers(DType dtype) {
        List<TwoFourGemmCase> cases = new ArrayList<>();
        for (LayerShape shape : LAYER_SHAPES) {
            for (int tokens : TOKENS) {
                cases.add(layer(shape, tokens, dtype));
            }
        }
        return cases;
    }

    private static TwoFourGemmCase layer(LayerShape shape, int tokens, DType dtype) {
        return TwoFourGemmCase.layer(shape.model(), shape.layer(), shape.out(), shape.in(), tokens, dtype);
    }

    /** The selection {@code LacunaConfig} holds under {@link #CONFIG_KEY}, or {@code all}. */
    public static String configuredSelection() {
        return org.lacuna.runtime.backend.LacunaConfig.get(CONFIG_KEY).orElse("all");
    }

    /**
     * The cases a selection names, in order, each once.
     *
     * @throws IllegalArgumentException for an item that is no preset, no custom problem, or a regular expression
     *     that is malformed or matches no case: a typo must not silently shrink a sweep
     */
    public static List<TwoFourGemmCase> select(String selection) {
        List<String> items = new ArrayList<>();
        for (String item : (selection == null ? "" : selection).split(",")) {
            if (!item.isBlank()) {
                items.add(item.strip());
            }
        }
        if (items.isEmpty()) {
            items.add("all");
        }
        List<TwoFourGemmCase> cases = new ArrayList<>();
        List<TwoFourGemmCase> universe = null;
        for (String item : items) {
            Supplier<List<TwoFourGemmCase>> preset = PRESETS.get(item);
            Matcher custom = CUSTOM.matcher(item);
            if (preset != null) {
                cases.addAll(preset.get());
            } else if (custom.matches()) {
                cases.add(TwoFourGemmCase.custom(Integer.parseInt(custom.group(1)), Integer.parseInt(custom.group(2)),
                        Integer.parseInt(custom.group(3)), "bf16".equals(custom.group(4)) ? DType.BF16 : DType.F16));
            } else {
                Pattern pattern;
                try {
                    pattern = Pattern.compile(item);
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException("case selection item '" + item
                            + "' is no preset, TOKENSxOUTxIN or regular expression: " + e.getDescription(), e);
                }
                if (universe == null) {
                    universe = PRESETS.get("everything").get();
                }
                List<TwoFourGemmCase> matched = universe.stream().filter(c -> pattern.matcher(c.id()).find()).toList();
                if (matched.isEmpty()) {
                    throw new IllegalArgumentException("case selection item '" + item + "' matches no case (presets: "
                            + String.join(", ", PRESETS.keySet()) + ")");
                }
                cases.addAll(matched);
            }
        }
        return distinct(cases);
    }

    @SafeVarargs
    private static List<TwoFourGemmCase> concat(List<TwoFourGemmCase>... lists) {
        List<TwoFourGemmCase> all = new ArrayList<>();
        for (List<TwoFourGemmCase> list : lists) {
            all.addAll(list);
        }
        return all;
    }

    private static List<TwoFourGemmCase> distinct(List<TwoFourGemmCase> cases) {
        Set<String> seen = new LinkedHashSet<>();
        return cases.stream().filter(c -> seen.add(c.id())).toList();
    }
}

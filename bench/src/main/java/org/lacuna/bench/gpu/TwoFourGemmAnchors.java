package org.lacuna.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Folds PyTorch's timings of the sparse GEMM cases ({@code bench/anchors/two_four_gemm_anchor.py}'s JSON) into a copy of
 * {@code bench.json}, so that the run record carries them with no change to its format: run.sh hands the merged
 * report to RunRecord. Appends the outcome {@code two-four-gemm-anchors} with, per case matched by id,
 * <ul>
 *   <li>{@code pytorch-cublas}, {@code pytorch-cusparselt} (and {@code pytorch-linear}): PyTorch's own timings;</li>
 *   <li>{@code twofour} anchored on {@code pytorch-cusparselt}, {@code dense} on {@code pytorch-cublas}: Lacuna's
 *       rows again, whose {@code anchor.speedup} is the ratio anchor median / Lacuna median;</li>
 * </ul>
 * and, when something is missing or was rejected, {@code two-four-gemm-anchors-problems} (status {@code partial}, or
 * {@code failed} if the script failed or wrote nothing) listing it. Also prints the comparison as a table.
 * Exit status 0 when the merged report was written, 2 when the benchmark report could not be read.
 */
@Command(name = "lacuna-two-four-gemm-anchors", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Merges two_four_gemm_anchor.py's JSON into a GpuBenchMain report for the run record.")
public final class TwoFourGemmAnchors implements Callable<Integer> {
    static final String OUTCOME = "two-four-gemm-anchors";
    static final String PROBLEMS = "two-four-gemm-anchors-problems";
    /** A PyTorch result further than this from the fp32 product (relative to its largest value) is wrong. */
    static final double WRONG_RESULT = 0.02;
    /** Lacuna's result and the PyTorch measurement it is compared with. */
    static final List<Map.Entry<String, String>> PAIRS = List.of(Map.entry("twofour", "cusparselt"),
            Map.entry("dense", "cublas"));

    @Mixin
    AnchorOptions options = new AnchorOptions();

    public static void main(String[] args) {
        System.exit(new CommandLine(new TwoFourGemmAnchors()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        return options.merge(OUTCOME, TwoFourGemmAnchors::merge);
    }

    /** The report with the anchors' outcomes appended, and the comparison as a text table. */
    record Merged(BenchReport report, String table) implements AnchorMerge.Result {
    }

    static Merged merge(BenchReport report, JsonNode anchors, int anchorExit, String whyMissing) {
        List<BenchReport.BenchmarkOutcome> outcomes = AnchorMerge.outcomes(report);
        Map<String, Map<String, BenchResult>> lacuna = AnchorMerge.lacunaResults(outcomes, TwoFourGemmBenchmark.NAME,
                r -> true);
        if (anchors == null) {
            AnchorMerge.addMissing(outcomes, OUTCOME, anchorExit, whyMissing);
            return new Merged(AnchorMerge.withOutcomes(report, outcomes), OUTCOME + ": none (" + whyMissing + ")\n");
        }

        Double peakGBps = report.device() == null ? null : report.device().peakGBps();
        Map<String, Object> provenance = provenance(anchors);
        List<BenchResult> rows = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%-42s %9s %9s %7s %9s %9s %7s %7s%n",
                "case (TFLOP/s dense-equivalent)", "2:4", "cuBLAS", "2:4/cB", "torch cB", "cuSPLt", "2:4/cSL",
                "cB/tcB"));
        for (JsonNode anchorCase : anchors.path("cases")) {
            String id = anchorCase.path("case").asText();
            Map<String, BenchResult> ours = lacuna.getOrDefault(id, Map.of());
            if (ours.isEmpty()) {
                problems.add(id + ": no Lacuna result to compare with");
            }
            Map<String, BenchResult> theirs = new LinkedHashMap<>();
            anchorCase.path("results").properties().forEach(entry -> {
                JsonNode measured = entry.getValue();
                if (measured.has("error")) {
                    problems.add(id + ": PyTorch " + entry.getKey() + ": " + measured.path("error").asText());
                } else {
                    JsonNode error = measured.path("relativeError");
                    if (error.isNull() || error.isNumber() && !(error.asDouble() <= WRONG_RESULT)) {
                        problems.add(id + ": PyTorch " + entry.getKey() + " result is off the fp32 product (relative"
                                + " error " + (error.isNull() ? "not a number" : error.asDouble()) + ")");
                    }
                    BenchResult row = AnchorMerge.pytorchRow("pytorch-" + entry.getKey(),
                            rowParams(anchorCase.path("params"), measured, provenance), measured, peakGBps);
                    theirs.put(entry.getKey(), row);
                    rows.add(row);
                }
            });
            for (Map.Entry<String, String> pair : PAIRS) {
                BenchResult mine = ours.get(pair.getKey());
                BenchResult anchor = theirs.get(pair.getValue());
                if (mine != null && anchor != null) {
                    rows.add(mine.withAnchor("pytorch-" + pair.getValue(), anchor.medianMs()));
                }
            }
            table.append(tableRow(id, ours, theirs));
        }
        AnchorMerge.addUnanchored(lacuna.keySet(), anchors, problems);
        AnchorMerge.finish(outcomes, OUTCOME, PROBLEMS, seconds(anchors), rows, anchors, anchorExit, problems, table,
                (failed, status, all) -> failed
                        ? "anchor script " + (status.equals("running") ? "stopped before finishing" : "failed")
                        + " (exit " + anchorExit
                        + (anchors.has("message") ? ": " + anchors.path("message").asText() : "")
                        + ")" + (all.isEmpty() ? "" : "; " + all.size() + " problem(s)")
                        : all.size() + " problem(s): " + all.getFirst() + (all.size() > 1 ? "; ..." : ""));
        return new Merged(AnchorMerge.withOutcomes(report, outcomes), table.toString());
    }

    private static Map<String, Object> provenance(JsonNode anchors) {
        Map<String, Object> provenance = new LinkedHashMap<>();
        JsonNode environment = anchors.path("environment");
        if (anchors.path("dryRun").asBoolean(false)) {
            provenance.put("source", "dry run (simulated timings)");
        }
        for (String key : List.of("torch", "cusparselt")) {
            if (environment.hasNonNull(key)) {
                provenance.put(key, environment.path(key).asText());
            }
        }
        return provenance;
    }

    private static Map<String, Object> rowParams(JsonNode params, JsonNode m, Map<String, Object> provenance) {
        Map<String, Object> rowParams = new LinkedHashMap<>();
        params.properties().forEach(e -> rowParams.put(e.getKey(),
                e.getValue().isIntegralNumber() ? (Object) e.getValue().asLong() : e.getValue().asText()));
        for (String key : List.of("algId", "paddedTokens")) {
            if (m.has(key)) {
                rowParams.put(key, m.path(key).asLong());
            }
        }
        rowParams.putAll(provenance);
        return rowParams;
    }

    private static String tableRow(String id, Map<String, BenchResult> ours, Map<String, BenchResult> theirs) {
        BenchResult twoFour = ours.get("twofour");
        BenchResult dense = ours.get("dense");
        BenchResult cublas = theirs.get("cublas");
        BenchResult cusparselt = theirs.get("cusparselt");
        return String.format(Locale.ROOT, "%-42s %9s %9s %7s %9s %9s %7s %7s%n", id, AnchorMerge.rate(twoFour),
                AnchorMerge.rate(dense), ratio(dense, twoFour), AnchorMerge.rate(cublas), AnchorMerge.rate(cusparselt),
                ratio(cusparselt, twoFour), ratio(cublas, dense));
    }

    /** anchor median / result median: above 1, the result is faster. */
    private static String ratio(BenchResult anchor, BenchResult result) {
        return anchor == null || result == null ? "-"
                : String.format(Locale.ROOT, "%.2fx", anchor.medianMs() / result.medianMs());
    }

    private static double seconds(JsonNode anchors) {
        try {
            return Duration.between(Instant.parse(anchors.path("startedAt").asText()),
                    Instant.parse(anchors.path("finishedAt").asText())).toMillis() / 1e3;
        } catch (DateTimeParseException e) {
            return 0;
        }
    }
}

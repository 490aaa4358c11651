package org.lacuna.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lacuna.bench.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Folds PyTorch's timings of the sparse GEMM cases ({@code bench/anchors/sparse_gemm_anchor.py}'s JSON) into a copy of
 * {@code bench.json}, so that the run record carries them with no change to its format: run.sh hands the merged
 * report to RunRecord. Appends the outcome {@code sparse-gemm-anchors} with, per case matched by id,
 * <ul>
 *   <li>{@code pytorch-cublas}, {@code pytorch-cusparselt} (and {@code pytorch-linear}): PyTorch's own timings;</li>
 *   <li>{@code twofour} anchored on {@code pytorch-cusparselt}, {@code dense} on {@code pytorch-cublas}: Lacuna's
 *       rows again, whose {@code anchor.speedup} is the ratio anchor median / Lacuna median;</li>
 * </ul>
 * and, when something is missing or was rejected, {@code sparse-gemm-anchors-problems} (status {@code partial}, or
 * {@code failed} if the script failed or wrote nothing) listing it. Also prints the comparison as a table.
 * Exit status 0 when the merged report was written, 2 when the benchmark report could not be read.
 */
@Command(name = "lacuna-sparse-gemm-anchors", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Merges sparse_gemm_anchor.py's JSON into a GpuBenchMain report for the run record.")
public final class SparseGemmAnchors implements Callable<Integer> {
    static final String OUTCOME = "sparse-gemm-anchors";
    static final String PROBLEMS = "sparse-gemm-anchors-problems";
    /** A PyTorch result further than this from the fp32 product (relative to its largest value) is wrong. */
    static final double WRONG_RESULT = 0.02;
    /** Lacuna's result and the PyTorch measurement it is compared with. */
    static final List<Map.Entry<String, String>> PAIRS = List.of(Map.entry("twofour", "cusparselt"),
            Map.entry("dense", "cublas"));

    @Option(names = "--bench-json", required = true, description = "GpuBenchMain's report.")
    Path benchJson;

    @Option(names = "--anchors-json", required = true, description = "sparse_gemm_anchor.py's report (may be missing).")
    Path anchorsJson;

    @Option(names = "--out", required = true, description = "Where the merged report goes.")
    Path out;

    @Option(names = "--anchor-exit", defaultValue = "0", description = "The anchor script's exit status.")
    int anchorExit;

    @Option(names = "--anchor-note", description = "Why there are no anchors (PyTorch missing...), when there are none.")
    String anchorNote;

    public static void main(String[] args) {
        System.exit(new CommandLine(new SparseGemmAnchors()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        BenchReport report;
        try {
            report = Json.MAPPER.readValue(benchJson.toFile(), BenchReport.class);
        } catch (IOException e) {
            System.err.println("sparse-gemm-anchors: cannot read " + benchJson + ": " + e.getMessage());
            return 2;
        }
        JsonNode anchors = null;
        String unreadable = null;
        if (Files.isRegularFile(anchorsJson)) {
            try {
                anchors = Json.MAPPER.readTree(anchorsJson.toFile());
            } catch (IOException e) {
                unreadable = "unreadable " + anchorsJson.getFileName() + ": " + e.getMessage();
            }
        }
        String missing = unreadable != null ? unreadable
                : anchorNote != null && !anchorNote.isBlank() ? anchorNote
                : "no " + anchorsJson.getFileName() + " (anchor script exit " + anchorExit + ")";
        Merged merged = merge(report, anchors, anchorExit, missing);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Json.MAPPER.writeValue(out.toFile(), merged.report());
        System.out.print(merged.table());
        System.out.println("sparse-gemm-anchors: wrote " + out);
        return 0;
    }

    /** The report with the anchors' outcomes appended, and the comparison as a text table. */
    record Merged(BenchReport report, String table) {
    }

    static Merged merge(BenchReport report, JsonNode anchors, int anchorExit, String whyMissing) {
        List<BenchReport.BenchmarkOutcome> outcomes = new ArrayList<>(
                report.benchmarks() == null ? List.of() : report.benchmarks());
        Map<String, Map<String, BenchResult>> lacuna = lacunaResults(outcomes);
        if (anchors == null) {
            outcomes.add(new BenchReport.BenchmarkOutcome(OUTCOME, anchorExit != 0 ? "failed" : "skipped", whyMissing,
                    0, List.of()));
            return new Merged(withOutcomes(report, outcomes), "sparse-gemm-anchors: none (" + whyMissing + ")\n");
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
                    BenchResult row = pytorchRow(entry.getKey(), anchorCase.path("params"), measured, provenance,
                            peakGBps);
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
        for (String id : lacuna.keySet()) {
            boolean anchored = false;
            for (JsonNode anchorCase : anchors.path("cases")) {
                anchored |= id.equals(anchorCase.path("case").asText());
            }
            if (!anchored) {
                problems.add(id + ": no PyTorch timing");
            }
        }

        outcomes.add(new BenchReport.BenchmarkOutcome(OUTCOME, "ok", null, seconds(anchors), rows));
        String status = anchors.path("status").asText("unknown");
        boolean failed = anchorExit != 0 || status.equals("failed") || status.equals("running");
        if (failed || !problems.isEmpty()) {
            String headline = failed
                    ? "anchor script " + (status.equals("running") ? "stopped before finishing" : "failed")
                    + " (exit " + anchorExit + (anchors.has("message") ? ": " + anchors.path("message").asText() : "")
                    + ")" + (problems.isEmpty() ? "" : "; " + problems.size() + " problem(s)")
                    : problems.size() + " problem(s): " + problems.getFirst() + (problems.size() > 1 ? "; ..." : "");
            outcomes.add(new BenchReport.BenchmarkOutcome(PROBLEMS, failed ? "failed" : "partial",
                    headline + (problems.isEmpty() ? "" : "\n" + String.join("\n", problems)), 0, List.of()));
            table.append("problems:\n");
            problems.forEach(p -> table.append("  ").append(p).append('\n'));
        }
        return new Merged(withOutcomes(report, outcomes), table.toString());
    }

    /** case id → result name → Lacuna's result, from the {@code sparse-gemm} outcome. */
    private static Map<String, Map<String, BenchResult>> lacunaResults(List<BenchReport.BenchmarkOutcome> outcomes) {
        Map<String, Map<String, BenchResult>> byCase = new LinkedHashMap<>();
        for (BenchReport.BenchmarkOutcome outcome : outcomes) {
            if (outcome.name().equals(SparseGemmBenchmark.NAME) && outcome.results() != null) {
                for (BenchResult r : outcome.results()) {
                    Object id = r.params().get("case");
                    if (id != null) {
                        byCase.computeIfAbsent(id.toString(), k -> new HashMap<>()).put(r.name(), r);
                    }
                }
            }
        }
        return byCase;
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

    private static BenchResult pytorchRow(String name, JsonNode params, JsonNode m, Map<String, Object> provenance,
                                          Double peakGBps) {
        Map<String, Object> rowParams = new LinkedHashMap<>();
        params.properties().forEach(e -> rowParams.put(e.getKey(),
                e.getValue().isIntegralNumber() ? (Object) e.getValue().asLong() : e.getValue().asText()));
        for (String key : List.of("algId", "paddedTokens")) {
            if (m.has(key)) {
                rowParams.put(key, m.path(key).asLong());
            }
        }
        rowParams.putAll(provenance);
        long bytes = m.path("bytes").asLong();
        double achievedGBps = m.path("achievedGBps").asDouble();
        return new BenchResult("pytorch-" + name, rowParams, m.path("timer").asText("device"),
                m.path("samples").asInt(), m.path("launchesPerSample").asInt(), m.path("iterations").asLong(),
                m.path("warmupLaunches").asInt(), m.path("medianMs").asDouble(), m.path("minMs").asDouble(),
                m.path("p10Ms").asDouble(), m.path("p90Ms").asDouble(), m.path("maxMs").asDouble(),
                m.path("meanMs").asDouble(), m.path("flops").asLong(), bytes, m.path("achievedTflops").asDouble(),
                achievedGBps, peakGBps == null ? null : bytes / (peakGBps * 1e9) * 1e3,
                peakGBps == null ? null : achievedGBps / peakGBps,
                m.has("rotationCopies") ? m.path("rotationCopies").asInt() : null,
                m.has("workingSetBytes") ? m.path("workingSetBytes").asLong() : null, null);
    }

    private static String tableRow(String id, Map<String, BenchResult> ours, Map<String, BenchResult> theirs) {
        BenchResult twoFour = ours.get("twofour");
        BenchResult dense = ours.get("dense");
        BenchResult cublas = theirs.get("cublas");
        BenchResult cusparselt = theirs.get("cusparselt");
        return String.format(Locale.ROOT, "%-42s %9s %9s %7s %9s %9s %7s %7s%n", id, rate(twoFour), rate(dense),
                ratio(dense, twoFour), rate(cublas), rate(cusparselt), ratio(cusparselt, twoFour),
                ratio(cublas, dense));
    }

    private static String rate(BenchResult r) {
        return r == null ? "-" : String.format(Locale.ROOT, "%.1f", r.achievedTflops());
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

    private static BenchReport withOutcomes(BenchReport r, List<BenchReport.BenchmarkOutcome> outcomes) {
        return new BenchReport(r.schema(), r.startedAt(), r.finishedAt(), r.status(), r.message(), r.device(),
                r.settings(), outcomes);
    }
}

package org.lacuna.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * Folds PyTorch's gather-GEMM-scatter timings ({@code bench/anchors/sparse_conv_anchor.py}'s JSON, on the maps and
 * weights {@link SparseConvBenchmark} exported) into a copy of a GpuBenchMain report, as {@link AttentionAnchors}
 * does: appends the outcome {@code sparse-conv-anchors} with, per case, {@code pytorch-gather-gemm-scatter} and
 * Lacuna's rows of that case anchored on it ({@code anchor.speedup} = PyTorch median / Lacuna median; the target for
 * the end-to-end {@code chosen} row is 2 or more), plus {@code sparse-conv-anchors-problems} when a side is missing.
 * Prints the comparison as a table with the sorted+split redundancy against its 1.5 target. Exit status 0 when the
 * merged report was written, 2 when the benchmark report could not be read.
 */
@Command(name = "lacuna-sparse-conv-anchors", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Merges sparse_conv_anchor.py's JSON into a GpuBenchMain report for the run record.")
public final class SparseConvAnchors implements Callable<Integer> {
    static final String OUTCOME = "sparse-conv-anchors";
    static final String PROBLEMS = "sparse-conv-anchors-problems";
    static final String PYTORCH = "torch-gather-gemm-scatter";
    static final String ROW = "pytorch-gather-gemm-scatter";

    @Option(names = "--bench-json", required = true, description = "GpuBenchMain's report.")
    Path benchJson;

    @Option(names = "--anchors-json", required = true, description = "sparse_conv_anchor.py's report (may be missing).")
    Path anchorsJson;

    @Option(names = "--out", required = true, description = "Where the merged report goes.")
    Path out;

    @Option(names = "--anchor-exit", defaultValue = "0", description = "The anchor script's exit status.")
    int anchorExit;

    @Option(names = "--anchor-note", description = "Why there are no anchors (PyTorch missing...), when there are none.")
    String anchorNote;

    public static void main(String[] args) {
        System.exit(new CommandLine(new SparseConvAnchors()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        BenchReport report;
        try {
            report = Json.MAPPER.readValue(benchJson.toFile(), BenchReport.class);
        } catch (IOException e) {
            System.err.println("sparse-conv-anchors: cannot read " + benchJson + ": " + e.getMessage());
            return 2;
        }
        JsonNode anchors = null;
        String missing = anchorNote != null ? anchorNote
                : "no " + anchorsJson.getFileName() + " (anchor script exit " + anchorExit + ")";
        if (anchorNote == null && Files.isRegularFile(anchorsJson)) {
            try {
                anchors = Json.MAPPER.readTree(anchorsJson.toFile());
            } catch (IOException e) {
                missing = "unreadable " + anchorsJson.getFileName() + ": " + e.getMessage();
            }
        }
        Merged merged = merge(report, anchors, anchorExit, missing);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Json.MAPPER.writeValue(out.toFile(), merged.report());
        System.out.print(merged.table());
        System.out.println("sparse-conv-anchors: wrote " + out);
        return 0;
    }

    record Merged(BenchReport report, String table) {
    }

    static Merged merge(BenchReport report, JsonNode anchors, int anchorExit, String whyMissing) {
        List<BenchReport.BenchmarkOutcome> outcomes = new ArrayList<>(
                report.benchmarks() == null ? List.of() : report.benchmarks());
        Map<String, Map<String, BenchResult>> lacuna = lacunaResults(outcomes);
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "targets: end to end (chosen) >= %.1fx "
                + "PyTorch; sorted+split redundancy <= %.2f%n", SparseConvBenchmark.TARGET_SPEEDUP_OVER_PYTORCH,
                SparseConvBenchmark.TARGET_MAX_REDUNDANCY)).append(String.format(Locale.ROOT,
                "%-40s %9s %9s %9s %9s %8s %7s%n", "case (ms)", "torch", "gather", "implicit", "chosen", "speedup",
                "r.split"));
        if (anchors == null) {
            outcomes.add(new BenchReport.BenchmarkOutcome(OUTCOME, anchorExit != 0 ? "failed" : "skipped", whyMissing,
                    0, List.of()));
            lacuna.forEach((id, rows) -> table.append(row(id, rows, null)));
            return new Merged(withOutcomes(report, outcomes), table + "sparse-conv-anchors: none (" + whyMissing
                    + ")\n");
        }
        List<BenchResult> rows = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        List<String> anchored = new ArrayList<>();
        for (JsonNode anchorCase : anchors.path("cases")) {
            String id = anchorCase.path("case").asText();
            anchored.add(id);
            Map<String, BenchResult> ours = lacuna.getOrDefault(id, Map.of());
            JsonNode measured = anchorCase.path("results").path(PYTORCH);
            BenchResult torch = null;
            if (measured.isMissingNode() || measured.has("error")) {
                problems.add(id + ": PyTorch: " + measured.path("error").asText("not measured"));
            } else {
                torch = pytorchRow(anchorCase.path("params"), measured, anchors);
                rows.add(torch);
            }
            if (ours.isEmpty()) {
                problems.add(id + ": no Lacuna result to compare with");
            } else if (torch != null) {
                for (BenchResult r : ours.values()) {
                    rows.add(r.withAnchor(ROW, torch.medianMs()));
                }
            }
            table.append(row(id, ours, torch));
        }
        for (String id : lacuna.keySet()) {
            if (!anchored.contains(id)) {
                problems.add(id + ": no PyTorch timing");
            }
        }
        outcomes.add(new BenchReport.BenchmarkOutcome(OUTCOME, "ok", null, 0, rows));
        String status = anchors.path("status").asText("unknown");
        boolean failed = anchorExit != 0 || status.equals("failed") || status.equals("running");
        if (failed || !problems.isEmpty()) {
            String headline = failed ? "anchor script failed (exit " + anchorExit + ", status " + status + ")"
                    : problems.size() + " problem(s)";
            outcomes.add(new BenchReport.BenchmarkOutcome(PROBLEMS, failed ? "failed" : "partial",
                    headline + (problems.isEmpty() ? "" : "\n" + String.join("\n", problems)), 0, List.of()));
            table.append("problems:\n");
            problems.forEach(p -> table.append("  ").append(p).append('\n'));
        }
        return new Merged(withOutcomes(report, outcomes), table.toString());
    }

    /** case id → result name → Lacuna's timed result, from the {@code sparse-conv} outcome (map rows left out). */
    private static Map<String, Map<String, BenchResult>> lacunaResults(List<BenchReport.BenchmarkOutcome> outcomes) {
        Map<String, Map<String, BenchResult>> byCase = new LinkedHashMap<>();
        for (BenchReport.BenchmarkOutcome outcome : outcomes) {
            if (outcome.name().equals(SparseConvBenchmark.NAME) && outcome.results() != null) {
                for (BenchResult r : outcome.results()) {
                    Object id = r.params().get("case");
                    boolean timedConvolution = r.name().equals(SparseConvBenchmark.GATHER)
                            || r.name().equals(SparseConvBenchmark.IMPLICIT) || r.name().equals(SparseConvBenchmark.CHOSEN);
                    if (id != null && timedConvolution) {
                        byCase.computeIfAbsent(id.toString(), k -> new LinkedHashMap<>()).put(r.name(), r);
                    }
                }
            }
        }
        return byCase;
    }

    private static BenchResult pytorchRow(JsonNode params, JsonNode m, JsonNode anchors) {
        Map<String, Object> rowParams = new LinkedHashMap<>();
        params.properties().forEach(e -> rowParams.put(e.getKey(), e.getValue().isIntegralNumber()
                ? (Object) e.getValue().asLong() : e.getValue().isBoolean() ? e.getValue().asBoolean()
                : e.getValue().asText()));
        if (m.has("kernel")) {
            rowParams.put("kernel", m.path("kernel").asText());
        }
        if (m.has("relativeError")) {
            rowParams.put("relativeError", m.path("relativeError").asDouble());
        }
        JsonNode environment = anchors.path("environment");
        if (environment.hasNonNull("torch")) {
            rowParams.put("torch", environment.path("torch").asText());
        }
        if (anchors.path("dryRun").asBoolean(false)) {
            rowParams.put("source", "dry run (simulated timings)");
        }
        return new BenchResult(ROW, rowParams, m.path("timer").asText("device"),
                m.path("samples").asInt(), m.path("launchesPerSample").asInt(), m.path("iterations").asLong(),
                m.path("warmupLaunches").asInt(), m.path("medianMs").asDouble(), m.path("minMs").asDouble(),
                m.path("p10Ms").asDouble(), m.path("p90Ms").asDouble(), m.path("maxMs").asDouble(),
                m.path("meanMs").asDouble(), m.path("flops").asLong(), m.path("bytes").asLong(),
                m.path("achievedTflops").asDouble(), m.path("achievedGBps").asDouble(), null, null,
                m.has("rotationCopies") ? m.path("rotationCopies").asInt() : null,
                m.has("workingSetBytes") ? m.path("workingSetBytes").asLong() : null, null);
    }

    /** Medians of PyTorch and each Lacuna row, PyTorch / best Lacuna (chosen where there is one), redundancy. */
    private static String row(String id, Map<String, BenchResult> ours, BenchResult torch) {
        BenchResult gather = ours.get(SparseConvBenchmark.GATHER);
        BenchResult implicit = ours.get(SparseConvBenchmark.IMPLICIT);
        BenchResult chosen = ours.get(SparseConvBenchmark.CHOSEN);
        BenchResult best = chosen != null ? chosen : gather == null ? implicit
                : implicit == null || gather.medianMs() <= implicit.medianMs() ? gather : implicit;
        BenchResult withStatistics = gather != null ? gather : best;
        Object split = withStatistics == null ? null : withStatistics.params().get(
                chosen != null ? "redundancySortedSplitFlopWeighted" : "redundancySortedSplit");
        return String.format(Locale.ROOT, "%-40s %9s %9s %9s %9s %8s %7s%n", id, ms(torch), ms(gather), ms(implicit),
                ms(chosen), best == null || torch == null ? "-"
                        : String.format(Locale.ROOT, "%.2fx", torch.medianMs() / best.medianMs()),
                split instanceof Number n ? String.format(Locale.ROOT, "%.2f", n.doubleValue()) : "-");
    }

    private static String ms(BenchResult r) {
        return r == null ? "-" : String.format(Locale.ROOT, "%.4f", r.medianMs());
    }

    private static BenchReport withOutcomes(BenchReport r, List<BenchReport.BenchmarkOutcome> outcomes) {
        return new BenchReport(r.schema(), r.startedAt(), r.finishedAt(), r.status(), r.message(), r.device(),
                r.settings(), outcomes);
    }
}

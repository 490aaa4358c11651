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
 * Folds PyTorch's timings of the attention cases ({@code bench/anchors/attention_anchor.py}'s JSON) into a copy of a
 * GpuBenchMain report, as {@link SparseGemmAnchors} does for the 2:4 GEMM: appends the outcome
 * {@code attention-anchors} with, per case, {@code pytorch-sdpa-flash} (PyTorch's scaled_dot_product_attention on its
 * flash backend, same problem, same GPU) and Lacuna's {@code dense} anchored on it ({@code anchor.speedup} = PyTorch
 * median / Lacuna median; the target is 0.8 or more), plus {@code attention-anchors-problems} when a side is missing.
 * Prints the comparison, with the token-dropping ratios, as a table. Exit status 0 when the merged report was
 * written, 2 when the benchmark report could not be read.
 */
@Command(name = "lacuna-attention-anchors", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Merges attention_anchor.py's JSON into a GpuBenchMain report for the run record.")
public final class AttentionAnchors implements Callable<Integer> {
    static final String OUTCOME = "attention-anchors";
    static final String PROBLEMS = "attention-anchors-problems";
    static final String PYTORCH = "sdpa-flash";
    /** Lacuna's dense attention should reach this share of PyTorch's flash throughput. */
    static final double TARGET_SHARE = 0.8;

    @Option(names = "--bench-json", required = true, description = "GpuBenchMain's report.")
    Path benchJson;

    @Option(names = "--anchors-json", required = true, description = "attention_anchor.py's report (may be missing).")
    Path anchorsJson;

    @Option(names = "--out", required = true, description = "Where the merged report goes.")
    Path out;

    @Option(names = "--anchor-exit", defaultValue = "0", description = "The anchor script's exit status.")
    int anchorExit;

    public static void main(String[] args) {
        System.exit(new CommandLine(new AttentionAnchors()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        BenchReport report;
        try {
            report = Json.MAPPER.readValue(benchJson.toFile(), BenchReport.class);
        } catch (IOException e) {
            System.err.println("attention-anchors: cannot read " + benchJson + ": " + e.getMessage());
            return 2;
        }
        JsonNode anchors = null;
        String missing = "no " + anchorsJson.getFileName() + " (anchor script exit " + anchorExit + ")";
        if (Files.isRegularFile(anchorsJson)) {
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
        System.out.println("attention-anchors: wrote " + out);
        return 0;
    }

    record Merged(BenchReport report, String table) {
    }

    static Merged merge(BenchReport report, JsonNode anchors, int anchorExit, String whyMissing) {
        List<BenchReport.BenchmarkOutcome> outcomes = new ArrayList<>(
                report.benchmarks() == null ? List.of() : report.benchmarks());
        Map<String, Map<String, BenchResult>> lacuna = lacunaResults(outcomes);
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "targets: dense >= %.2fx PyTorch flash; "
                + "kept-R time <= 1.25·R² of dense (0.613, 0.313, 0.113); overhead (at 0.5) <= 0.05 of dense%n",
                TARGET_SHARE)).append(String.format(Locale.ROOT, "%-22s %9s %9s %7s %9s %9s %9s %9s%n",
                "case (TFLOP/s)", "lacuna", "torch", "ratio", "kept 0.7", "kept 0.5", "kept 0.3", "overhead"));
        if (anchors == null) {
            outcomes.add(new BenchReport.BenchmarkOutcome(OUTCOME, anchorExit != 0 ? "failed" : "skipped", whyMissing,
                    0, List.of()));
            lacuna.forEach((id, rows) -> table.append(row(id, rows, null)));
            return new Merged(withOutcomes(report, outcomes), table + "attention-anchors: none (" + whyMissing + ")\n");
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
                problems.add(id + ": PyTorch " + PYTORCH + ": " + measured.path("error").asText("not measured"));
            } else {
                torch = pytorchRow(anchorCase.path("params"), measured, anchors);
                rows.add(torch);
            }
            BenchResult dense = ours.get("dense");
            if (dense == null) {
                problems.add(id + ": no Lacuna result to compare with");
            } else if (torch != null) {
                rows.add(dense.withAnchor("pytorch-" + PYTORCH, torch.medianMs()));
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

    /** case id → result name → Lacuna's result, from the {@code attention} outcome. */
    private static Map<String, Map<String, BenchResult>> lacunaResults(List<BenchReport.BenchmarkOutcome> outcomes) {
        Map<String, Map<String, BenchResult>> byCase = new LinkedHashMap<>();
        for (BenchReport.BenchmarkOutcome outcome : outcomes) {
            if (outcome.name().equals(AttentionBenchmark.NAME) && outcome.results() != null) {
                for (BenchResult r : outcome.results()) {
                    Object id = r.params().get("case");
                    if (id != null) {
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
        JsonNode environment = anchors.path("environment");
        if (environment.hasNonNull("torch")) {
            rowParams.put("torch", environment.path("torch").asText());
        }
        if (anchors.path("dryRun").asBoolean(false)) {
            rowParams.put("source", "dry run (simulated timings)");
        }
        return new BenchResult("pytorch-" + PYTORCH, rowParams, m.path("timer").asText("device"),
                m.path("samples").asInt(), m.path("launchesPerSample").asInt(), m.path("iterations").asLong(),
                m.path("warmupLaunches").asInt(), m.path("medianMs").asDouble(), m.path("minMs").asDouble(),
                m.path("p10Ms").asDouble(), m.path("p90Ms").asDouble(), m.path("maxMs").asDouble(),
                m.path("meanMs").asDouble(), m.path("flops").asLong(), m.path("bytes").asLong(),
                m.path("achievedTflops").asDouble(), m.path("achievedGBps").asDouble(), null, null,
                m.has("rotationCopies") ? m.path("rotationCopies").asInt() : null,
                m.has("workingSetBytes") ? m.path("workingSetBytes").asLong() : null, null);
    }

    /** TFLOP/s of both dense rows, Lacuna/PyTorch throughput, kept/dense time per ratio, overhead/dense at 0.5. */
    private static String row(String id, Map<String, BenchResult> ours, BenchResult torch) {
        BenchResult dense = ours.get("dense");
        return String.format(Locale.ROOT, "%-22s %9s %9s %7s %9s %9s %9s %9s%n", id, rate(dense), rate(torch),
                dense == null || torch == null ? "-" : String.format(Locale.ROOT, "%.2fx", torch.medianMs() / dense.medianMs()),
                share(ours.get("kept-0.7"), dense), share(ours.get("kept-0.5"), dense), share(ours.get("kept-0.3"), dense),
                share(ours.get("overhead-0.5"), dense));
    }

    private static String rate(BenchResult r) {
        return r == null ? "-" : String.format(Locale.ROOT, "%.1f", r.achievedTflops());
    }

    private static String share(BenchResult r, BenchResult dense) {
        return r == null || dense == null ? "-" : String.format(Locale.ROOT, "%.3f", r.medianMs() / dense.medianMs());
    }

    private static BenchReport withOutcomes(BenchReport r, List<BenchReport.BenchmarkOutcome> outcomes) {
        return new BenchReport(r.schema(), r.startedAt(), r.finishedAt(), r.status(), r.message(), r.device(),
                r.settings(), outcomes);
    }
}

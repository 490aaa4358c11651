package org.lacuna.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import org.lacuna.bench.Json;

/**
 * What {@link TwoFourGemmAnchors}, {@link AttentionAnchors} and {@link SparseConvAnchors} share when they fold an
 * anchor script's JSON into a GpuBenchMain report: reading both reports, writing the merged one, collecting Lacuna's
 * results by case, the outcome/problems bookkeeping and the PyTorch rows. The families keep how cases are matched and
 * which rows are anchored.
 */
final class AnchorMerge {
    private AnchorMerge() {
    }

    /** The anchor script's JSON ({@code null} when absent or unreadable) and why it is unreadable, if it is. */
    record Anchors(JsonNode json, String unreadable) {
        static final Anchors NONE = new Anchors(null, null);
    }

    /** The benchmark report, or {@code null} (having said why on stderr) when it cannot be read. */
    private static BenchReport readReport(String tag, Path benchJson) {
        try {
            return Json.MAPPER.readValue(benchJson.toFile(), BenchReport.class);
        } catch (IOException e) {
            System.err.println(tag + ": cannot read " + benchJson + ": " + e.getMessage());
            return null;
        }
    }

    /** The anchor JSON when it is a regular file and parses; otherwise what was wrong with it, if it is there. */
    static Anchors readAnchors(Path anchorsJson) {
        if (!Files.isRegularFile(anchorsJson)) {
            return Anchors.NONE;
        }
        try {
            return new Anchors(Json.MAPPER.readTree(anchorsJson.toFile()), null);
        } catch (IOException e) {
            return new Anchors(null, "unreadable " + anchorsJson.getFileName() + ": " + e.getMessage());
        }
    }

    /** Why there are no anchors when the script wrote nothing. */
    static String noAnchors(Path anchorsJson, int anchorExit) {
        return "no " + anchorsJson.getFileName() + " (anchor script exit " + anchorExit + ")";
    }

    /** A family's merged report and its comparison table (each family's {@code Merged} record). */
    interface Result {
        BenchReport report();

        String table();
    }

    /**
     * A family's {@code call()}: reads the benchmark report (exit status 2 when it cannot), merges it, writes the
     * merged report to {@code out}, prints the table and returns the exit status 0.
     */
    static int run(String tag, Path benchJson, Path out, Function<BenchReport, Result> merge) throws IOException {
        BenchReport report = readReport(tag, benchJson);
        if (report == null) {
            return 2;
        }
        Result merged = merge.apply(report);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Json.MAPPER.writeValue(out.toFile(), merged.report());
        System.out.print(merged.table());
        System.out.println(tag + ": wrote " + out);
        return 0;
    }

    /** A modifiable copy of the report's outcomes. */
    static List<BenchReport.BenchmarkOutcome> outcomes(BenchReport report) {
        return new ArrayList<>(report.benchmarks() == null ? List.of() : report.benchmarks());
    }

    /** case id → result name → Lacuna's result, from the outcome {@code benchmark}, rows {@code keep} accepts. */
    static Map<String, Map<String, BenchResult>> lacunaResults(List<BenchReport.BenchmarkOutcome> outcomes,
                                                               String benchmark, Predicate<BenchResult> keep) {
        Map<String, Map<String, BenchResult>> byCase = new LinkedHashMap<>();
        for (BenchReport.BenchmarkOutcome outcome : outcomes) {
            if (outcome.name().equals(benchmark) && outcome.results() != null) {
                for (BenchResult r : outcome.results()) {
                    Object id = r.params().get("case");
                    if (id != null && keep.test(r)) {
                        byCase.computeIfAbsent(id.toString(), k -> new LinkedHashMap<>()).put(r.name(), r);
                    }
                }
            }
        }
        return byCase;
    }

    /** Appends the outcome {@code name} for no anchors: {@code failed} when the script failed, else skipped. */
    static void addMissing(List<BenchReport.BenchmarkOutcome> outcomes, String name, int anchorExit,
                           String whyMissing) {
        outcomes.add(new BenchReport.BenchmarkOutcome(name, anchorExit != 0 ? "failed" : "skipped", whyMissing, 0,
                List.of()));
    }

    /** Adds "no PyTorch timing" for each Lacuna case the anchors do not list. */
    static void addUnanchored(Set<String> lacunaCases, JsonNode anchors, List<String> problems) {
        Set<String> anchored = new HashSet<>();
        for (JsonNode anchorCase : anchors.path("cases")) {
            anchored.add(anchorCase.path("case").asText());
        }
        for (String id : lacunaCases) {
            if (!anchored.contains(id)) {
                problems.add(id + ": no PyTorch timing");
            }
        }
    }

    /** The problems outcome's first line, from whether the script failed, its status and the problems. */
    interface Headline {
        String of(boolean failed, String status, List<String> problems);
    }

    /** The headline of {@link AttentionAnchors} and {@link SparseConvAnchors}. */
    static Headline plainHeadline(int anchorExit) {
        return (failed, status, problems) -> failed
                ? "anchor script failed (exit " + anchorExit + ", status " + status + ")"
                : problems.size() + " problem(s)";
    }

    /**
     * Appends the outcome {@code name} ({@code ok}, with the rows) and, when the script failed or there are problems,
     * {@code problemsName} listing them, also in the table.
     */
    static void finish(List<BenchReport.BenchmarkOutcome> outcomes, String name, String problemsName, double seconds,
                       List<BenchResult> rows, JsonNode anchors, int anchorExit, List<String> problems,
                       StringBuilder table, Headline headline) {
        outcomes.add(new BenchReport.BenchmarkOutcome(name, "ok", null, seconds, rows));
        String status = anchors.path("status").asText("unknown");
        boolean failed = anchorExit != 0 || status.equals("failed") || status.equals("running");
        if (failed || !problems.isEmpty()) {
            outcomes.add(new BenchReport.BenchmarkOutcome(problemsName, failed ? "failed" : "partial",
                    headline.of(failed, status, problems)
                            + (problems.isEmpty() ? "" : "\n" + String.join("\n", problems)), 0, List.of()));
            table.append("problems:\n");
            problems.forEach(p -> table.append("  ").append(p).append('\n'));
        }
    }

    /**
     * An anchor with one PyTorch measurement per case (attention, sparse convolution), which Lacuna's compared rows of
     * that case are anchored on.
     *
     * @param outcome     the outcome holding the anchored rows
     * @param problems    the outcome listing what could not be compared
     * @param measurement the measurement's key in each case's {@code results}
     * @param problemHead how a missing or failed measurement is named in a problem, e.g. {@code "PyTorch"}
     * @param anchorRow   the anchor's name on Lacuna's anchored rows
     * @param compared    Lacuna's rows of a case that are anchored; none is a problem
     * @param pytorchRow  the PyTorch row from a case's params, its measurement and the whole anchor JSON
     * @param line        the table line of a case from Lacuna's rows and the PyTorch row ({@code null} when missing)
     */
    record PerCaseAnchor(String outcome, String problems, String measurement, String problemHead, String anchorRow,
                         Function<Map<String, BenchResult>, Collection<BenchResult>> compared,
                         PytorchRow pytorchRow, CaseLine line) {
        @FunctionalInterface
        interface PytorchRow {
            BenchResult row(JsonNode params, JsonNode measured, JsonNode anchors);
        }

        @FunctionalInterface
        interface CaseLine {
            String line(String id, Map<String, BenchResult> ours, BenchResult torch);
        }
    }

    /**
     * Folds a per-case anchor into {@code outcomes} and appends a line per case to {@code table} (after its heading):
     * without anchors, the outcome says why and the lines show Lacuna alone; otherwise each case's PyTorch row, Lacuna's
     * compared rows anchored on it, and the problems where either side is missing.
     *
     * @return the merged report
     */
    static BenchReport mergePerCase(PerCaseAnchor anchor, BenchReport report,
                                    List<BenchReport.BenchmarkOutcome> outcomes,
                                    Map<String, Map<String, BenchResult>> lacuna, JsonNode anchors, int anchorExit,
                                    String whyMissing, StringBuilder table) {
        if (anchors == null) {
            addMissing(outcomes, anchor.outcome(), anchorExit, whyMissing);
            lacuna.forEach((id, rows) -> table.append(anchor.line().line(id, rows, null)));
            table.append(anchor.outcome()).append(": none (").append(whyMissing).append(")\n");
            return withOutcomes(report, outcomes);
        }
        List<BenchResult> rows = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (JsonNode anchorCase : anchors.path("cases")) {
            String id = anchorCase.path("case").asText();
            Map<String, BenchResult> ours = lacuna.getOrDefault(id, Map.of());
            JsonNode measured = anchorCase.path("results").path(anchor.measurement());
            BenchResult torch = null;
            if (measured.isMissingNode() || measured.has("error")) {
                problems.add(id + ": " + anchor.problemHead() + ": " + measured.path("error").asText("not measured"));
            } else {
                torch = anchor.pytorchRow().row(anchorCase.path("params"), measured, anchors);
                rows.add(torch);
            }
            Collection<BenchResult> compared = anchor.compared().apply(ours);
            if (compared.isEmpty()) {
                problems.add(id + ": no Lacuna result to compare with");
            } else if (torch != null) {
                for (BenchResult r : compared) {
                    rows.add(r.withAnchor(anchor.anchorRow(), torch.medianMs()));
                }
            }
            table.append(anchor.line().line(id, ours, torch));
        }
        addUnanchored(lacuna.keySet(), anchors, problems);
        finish(outcomes, anchor.outcome(), anchor.problems(), 0, rows, anchors, anchorExit, problems, table,
                plainHeadline(anchorExit));
        return withOutcomes(report, outcomes);
    }

    /**
     * The row of a PyTorch measurement of a per-case anchor: the case's params, the kernel PyTorch ran and the
     * measurement's {@code extraDoubles} where present, with the torch provenance.
     */
    static BenchResult pytorchKernelRow(String name, JsonNode params, JsonNode m, JsonNode anchors,
                                        String... extraDoubles) {
        Map<String, Object> rowParams = caseParams(params);
        if (m.has("kernel")) {
            rowParams.put("kernel", m.path("kernel").asText());
        }
        for (String key : extraDoubles) {
            if (m.has(key)) {
                rowParams.put(key, m.path(key).asDouble());
            }
        }
        addTorchProvenance(rowParams, anchors);
        return pytorchRow(name, rowParams, m, null);
    }

    /** A case's parameters: integers as longs, booleans as booleans, the rest as text. */
    static Map<String, Object> caseParams(JsonNode params) {
        Map<String, Object> rowParams = new LinkedHashMap<>();
        params.properties().forEach(e -> rowParams.put(e.getKey(), e.getValue().isIntegralNumber()
                ? (Object) e.getValue().asLong() : e.getValue().isBoolean() ? e.getValue().asBoolean()
                : e.getValue().asText()));
        return rowParams;
    }

    /** Adds the torch version and, for a dry run, the source of the timings. */
    static void addTorchProvenance(Map<String, Object> rowParams, JsonNode anchors) {
        JsonNode environment = anchors.path("environment");
        if (environment.hasNonNull("torch")) {
            rowParams.put("torch", environment.path("torch").asText());
        }
        if (anchors.path("dryRun").asBoolean(false)) {
            rowParams.put("source", "dry run (simulated timings)");
        }
    }

    /** The row for one PyTorch measurement {@code m}; with the device's peak, also its roofline figures. */
    static BenchResult pytorchRow(String name, Map<String, Object> rowParams, JsonNode m, Double peakGBps) {
        long bytes = m.path("bytes").asLong();
        double achievedGBps = m.path("achievedGBps").asDouble();
        return new BenchResult(name, rowParams, m.path("timer").asText("device"),
                m.path("samples").asInt(), m.path("launchesPerSample").asInt(), m.path("iterations").asLong(),
                m.path("warmupLaunches").asInt(), m.path("medianMs").asDouble(), m.path("minMs").asDouble(),
                m.path("p10Ms").asDouble(), m.path("p90Ms").asDouble(), m.path("maxMs").asDouble(),
                m.path("meanMs").asDouble(), m.path("flops").asLong(), bytes, m.path("achievedTflops").asDouble(),
                achievedGBps, peakGBps == null ? null : bytes / (peakGBps * 1e9) * 1e3,
                peakGBps == null ? null : achievedGBps / peakGBps,
                m.has("rotationCopies") ? m.path("rotationCopies").asInt() : null,
                m.has("workingSetBytes") ? m.path("workingSetBytes").asLong() : null, null);
    }

    /** TFLOP/s, one decimal, or "-". */
    static String rate(BenchResult r) {
        return r == null ? "-" : String.format(Locale.ROOT, "%.1f", r.achievedTflops());
    }

    static BenchReport withOutcomes(BenchReport r, List<BenchReport.BenchmarkOutcome> outcomes) {
        return new BenchReport(r.schema(), r.startedAt(), r.finishedAt(), r.status(), r.message(), r.device(),
                r.settings(), outcomes);
    }
}

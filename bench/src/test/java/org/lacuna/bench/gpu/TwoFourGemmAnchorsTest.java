package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.bench.Json;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.bench.measure.SampleStatistics;
import picocli.CommandLine;

class TwoFourGemmAnchorsTest {
    private static final String CASE = "square-1024-f16";
    private static final String DECODE = "llama-7b-ffn-up-11008x4096-t1-f16";

    /** A PyTorch measurement as two_four_gemm_anchor.py writes it. */
    private static String measured(String name, double medianMs, long flops, String extra) {
        return """
                {"name": "%s", "kernel": "k", "timer": "device", "samples": 100, "launchesPerSample": 2,
                 "iterations": 200, "warmupLaunches": 40, "medianMs": %s, "minMs": %s, "p10Ms": %s, "p90Ms": %s,
                 "maxMs": %s, "meanMs": %s, "flops": %d, "bytes": 6291456, "achievedTflops": %s,
                 "achievedGBps": 1000.0, "rotationCopies": 43, "workingSetBytes": 270532608%s}
                """.formatted(name, medianMs, medianMs, medianMs, medianMs, medianMs, medianMs, flops,
                flops / (medianMs / 1e3) / 1e12, extra);
    }

    private static final String ANCHORS = """
            {"schema": "lacuna-two-four-gemm-anchor/1", "startedAt": "2026-11-23T01:00:00Z",
             "finishedAt": "2026-11-23T01:01:30Z", "status": "partial", "dryRun": false, "selection": "x",
             "environment": {"torch": "2.9.0", "cusparselt": 700},
             "cases": [
              {"case": "%s", "params": {"case": "%s", "model": "square", "layer": "square", "tokens": 1024,
               "out": 1024, "in": 1024, "dtype": "f16"}, "flops": 2147483648,
               "results": {"cublas": %s, "cusparselt": %s}},
              {"case": "%s", "params": {"case": "%s", "model": "llama-7b", "layer": "ffn-up", "tokens": 1,
               "out": 11008, "in": 4096, "dtype": "f16"}, "flops": 90177536,
               "results": {"cublas": %s, "cusparselt": {"error": "RuntimeError: CUDA error: invalid value"}}}
             ]}
            """.formatted(CASE, CASE, measured("cublas", 0.010, 2147483648L, ""),
            measured("cusparselt", 0.006, 2147483648L, ", \"algId\": 2"), DECODE, DECODE,
            measured("cublas", 0.030, 90177536L, ""));

    private static BenchResult lacuna(String name, String caseId, double medianMs) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("case", caseId);
        params.put("dtype", "f16");
        return new BenchResult(name, params, "device", 100, 1, 100, 10, medianMs, medianMs, medianMs, medianMs,
                medianMs, medianMs, 2147483648L, 1000, 1, 1, null, null, 4, 1L << 28, null);
    }

    private static BenchReport report() {
        BenchResult dense = lacuna("dense", CASE, 0.011);
        List<BenchResult> sparse = List.of(lacuna("twofour", CASE, 0.005).withAnchor(dense), dense,
                lacuna("twofour", "bert-base-ffn-up-3072x768-t16-f16", 0.004));
        BenchReport.DeviceSummary device = new BenchReport.DeviceSummary("cuda", "NVIDIA H100 80GB HBM3", 90, 132,
                80L << 30, "13.0", 3350.0, "data sheet", "cuda");
        return new BenchReport(BenchReport.SCHEMA, "a", "b", "ok", null, device,
                new BenchReport.Settings(MeasurementPlan.defaults(), 256L << 20),
                List.of(new BenchReport.BenchmarkOutcome("memory", "ok", null, 1, List.of()),
                        new BenchReport.BenchmarkOutcome("two-four-gemm", "ok", null, 2, sparse)));
    }

    private static Map<String, BenchResult> rowsOf(BenchReport.BenchmarkOutcome outcome, String caseId) {
        return outcome.results().stream().filter(r -> caseId.equals(r.params().get("case")))
                .collect(Collectors.toMap(r -> r.name() + (r.anchor() == null ? "" : " vs " + r.anchor().name()),
                        r -> r, (a, b) -> a, LinkedHashMap::new));
    }

    @Test
    void pytorchTimingsJoinTheReportWithTheRatios() throws Exception {
        TwoFourGemmAnchors.Merged merged = TwoFourGemmAnchors.merge(report(), Json.MAPPER.readTree(ANCHORS), 0, null);
        List<BenchReport.BenchmarkOutcome> outcomes = merged.report().benchmarks();

        assertEquals(List.of("memory", "two-four-gemm", "two-four-gemm-anchors", "two-four-gemm-anchors-problems"),
                outcomes.stream().map(BenchReport.BenchmarkOutcome::name).toList());
        BenchReport.BenchmarkOutcome anchors = outcomes.get(2);
        assertEquals("ok", anchors.status());
        assertEquals(90.0, anchors.seconds());

        Map<String, BenchResult> square = rowsOf(anchors, CASE);
        assertEquals(List.of("pytorch-cublas", "pytorch-cusparselt", "twofour vs pytorch-cusparselt",
                "dense vs pytorch-cublas"), List.copyOf(square.keySet()));
        // ratio = anchor median / Lacuna median
        assertEquals(0.006 / 0.005, square.get("twofour vs pytorch-cusparselt").anchor().speedup(), 1e-12);
        assertEquals(0.006, square.get("twofour vs pytorch-cusparselt").anchor().anchorMedianMs());
        assertEquals(0.010 / 0.011, square.get("dense vs pytorch-cublas").anchor().speedup(), 1e-12);
        BenchResult cusparselt = square.get("pytorch-cusparselt");
        assertEquals(2147483648L / 0.006e-3 / 1e12, cusparselt.achievedTflops(), 1e-9);
        assertEquals(2L, cusparselt.params().get("algId"));
        assertEquals("2.9.0", cusparselt.params().get("torch"));
        assertEquals(1024L, cusparselt.params().get("tokens"));
        assertEquals(6291456 / 3350e9 * 1e3, cusparselt.memoryFloorMs(), 1e-12);
        assertEquals(43, cusparselt.rotationCopies());
        assertNull(cusparselt.anchor());

        // The decode case: cuSPARSELt rejected it, and Lacuna has no result for it; both are listed, and so is the
        // Lacuna case PyTorch did not time.
        assertEquals(List.of("pytorch-cublas"), List.copyOf(rowsOf(anchors, DECODE).keySet()));
        BenchReport.BenchmarkOutcome problems = outcomes.get(3);
        assertEquals("partial", problems.status());
        List<String> lines = problems.error().lines().toList();
        assertTrue(lines.getFirst().startsWith("3 problem(s): "), lines.getFirst());
        assertTrue(lines.contains(DECODE + ": PyTorch cusparselt: RuntimeError: CUDA error: invalid value"), lines.toString());
        assertTrue(lines.contains(DECODE + ": no Lacuna result to compare with"), lines.toString());
        assertTrue(lines.contains("bert-base-ffn-up-3072x768-t16-f16: no PyTorch timing"), lines.toString());

        assertTrue(merged.table().contains(CASE), merged.table());
        assertTrue(merged.table().contains("1.20x"), merged.table()); // 2:4 vs cuSPARSELt
    }

    @Test
    void aFailedScriptIsAFailureEvenWithPartialTimings() throws Exception {
        String cutShort = ANCHORS.replace("\"status\": \"partial\"", "\"status\": \"running\"");
        TwoFourGemmAnchors.Merged merged = TwoFourGemmAnchors.merge(report(), Json.MAPPER.readTree(cutShort), 137, null);
        BenchReport.BenchmarkOutcome problems = merged.report().benchmarks().getLast();
        assertEquals("failed", problems.status());
        assertTrue(problems.error().startsWith("anchor script stopped before finishing (exit 137)"), problems.error());
        assertEquals(4, rowsOf(merged.report().benchmarks().get(2), CASE).size());
    }

    @Test
    void aPytorchResultOffTheProductIsListedAsAProblem() throws Exception {
        String wrong = ANCHORS.replace("\"algId\": 2", "\"algId\": 2, \"relativeError\": 0.4")
                .replaceFirst("\"workingSetBytes\": 270532608", "\"workingSetBytes\": 270532608, \"relativeError\": null");
        TwoFourGemmAnchors.Merged merged = TwoFourGemmAnchors.merge(report(), Json.MAPPER.readTree(wrong), 0, null);
        List<String> lines = merged.report().benchmarks().getLast().error().lines().toList();
        assertTrue(lines.contains(CASE + ": PyTorch cusparselt result is off the fp32 product (relative error 0.4)"),
                lines.toString());
        assertTrue(lines.contains(CASE + ": PyTorch cublas result is off the fp32 product (relative error not a"
                + " number)"), lines.toString());
        // Still timed, still compared: the problem list says how far to trust it.
        assertEquals(4, rowsOf(merged.report().benchmarks().get(2), CASE).size());
    }

    @Test
    void withoutAnchorsTheRecordSaysWhy() {
        TwoFourGemmAnchors.Merged skipped = TwoFourGemmAnchors.merge(report(), null, 0, "PyTorch does not import here");
        BenchReport.BenchmarkOutcome last = skipped.report().benchmarks().getLast();
        assertEquals("two-four-gemm-anchors", last.name());
        assertEquals("skipped", last.status());
        assertEquals("PyTorch does not import here", last.error());
        assertEquals("failed", TwoFourGemmAnchors.merge(report(), null, 1, "crashed").report().benchmarks().getLast()
                .status());
    }

    @Test
    void theCommandWritesAReportRunRecordCanRead(@TempDir Path dir) throws Exception {
        Path bench = dir.resolve("bench.json");
        Json.MAPPER.writeValue(bench.toFile(), report());
        Path anchors = dir.resolve("anchors.json");
        Files.writeString(anchors, ANCHORS);
        Path merged = dir.resolve("merged.json");

        assertEquals(0, new CommandLine(new TwoFourGemmAnchors()).execute("--bench-json", bench.toString(),
                "--anchors-json", anchors.toString(), "--out", merged.toString()));
        BenchReport read = Json.MAPPER.readValue(merged.toFile(), BenchReport.class);
        assertEquals(4, read.benchmarks().size());
        assertEquals("ok", read.status());

        Path record = dir.resolve("record");
        assertEquals(0, new CommandLine(new org.lacuna.bench.record.RunRecord()).execute("--junit-dir",
                dir.resolve("none").toString(), "--bench-json", merged.toString(), "--out-dir", record.toString(),
                "--quiet"));
        try (var files = Files.list(record)) {
            Path markdown = files.filter(p -> p.toString().endsWith(".md")).findFirst().orElseThrow();
            String md = Files.readString(markdown);
            assertTrue(md.contains("| two-four-gemm-anchors | twofour |"), md);
            assertTrue(md.contains("| pytorch-cusparselt | 1.20x |"), md);
            assertTrue(md.contains("| two-four-gemm-anchors-problems | **partial** |"), md);
        }

        assertEquals(2, new CommandLine(new TwoFourGemmAnchors()).execute("--bench-json",
                dir.resolve("absent.json").toString(), "--anchors-json", anchors.toString(), "--out", merged.toString()));
    }

    /** The script's own output, from a dry run on simulated timings, merges as the hand-written one does. */
    @Test
    void theAnchorScriptsDryRunMerges(@TempDir Path dir) throws Exception {
        Path anchors = dir.resolve("anchors.json");
        TwoFourGemmSweepTest.python("--dry-run", "--cases", "smoke,1x128x64", "--samples", "20", "--out",
                anchors.toString());
        JsonNode written = Json.MAPPER.readTree(anchors.toFile());
        assertEquals("lacuna-two-four-gemm-anchor/1", written.path("schema").asText());
        assertEquals("partial", written.path("status").asText()); // the dry run rejects 1-token cuSPARSELt cases
        assertEquals(3, written.path("cases").size());
        List<TwoFourGemmCase> cases = TwoFourGemmSweep.select("smoke,1x128x64");
        for (int i = 0; i < cases.size(); i++) {
            JsonNode c = written.path("cases").get(i);
            assertEquals(cases.get(i).id(), c.path("case").asText());
            assertEquals(cases.get(i).flops(), c.path("flops").asLong());
            assertEquals(cases.get(i).params().get("in"), c.path("params").path("in").asInt());
            JsonNode cublas = c.path("results").path("cublas");
            assertEquals(20, cublas.path("samples").asInt());
            assertTrue(cublas.path("minMs").asDouble() <= cublas.path("medianMs").asDouble());
            assertTrue(cublas.path("medianMs").asDouble() <= cublas.path("p90Ms").asDouble());
        }

        List<BenchResult> ours = cases.stream().flatMap(c -> {
            BenchResult dense = lacuna("dense", c.id(), 0.02);
            return java.util.stream.Stream.of(lacuna("twofour", c.id(), 0.01).withAnchor(dense), dense);
        }).toList();
        BenchReport report = new BenchReport(BenchReport.SCHEMA, "a", "b", "ok", null, null,
                new BenchReport.Settings(MeasurementPlan.defaults(), 256L << 20),
                List.of(new BenchReport.BenchmarkOutcome("two-four-gemm", "ok", null, 1, ours)));
        TwoFourGemmAnchors.Merged merged = TwoFourGemmAnchors.merge(report, written, 0, null);
        BenchReport.BenchmarkOutcome outcome = merged.report().benchmarks().get(1);
        Map<String, BenchResult> square = rowsOf(outcome, "square-1024-f16");
        assertEquals(written.path("cases").get(0).path("results").path("cusparselt").path("medianMs").asDouble() / 0.01,
                square.get("twofour vs pytorch-cusparselt").anchor().speedup(), 1e-12);
        assertEquals("dry run (simulated timings)", square.get("pytorch-cublas").params().get("source"));
        assertEquals("partial", merged.report().benchmarks().getLast().status());
    }

    /** The script's statistics are SampleStatistics' (numpy's percentiles), so both sides' medians mean the same. */
    @Test
    void theAnchorScriptsStatisticsMatchTheHarness() throws Exception {
        double[] samples = {0.31, 0.27, 0.5, 0.29, 0.28, 1.7, 0.3, 0.26, 0.33, 0.27, 0.41};
        String list = java.util.Arrays.toString(samples);
        List<String> out = TwoFourGemmSweepTest.python("-c",
                "import json, two_four_gemm_anchor as a; print(json.dumps(a.statistics(" + list + ")))");
        JsonNode stats = Json.MAPPER.readTree(out.getFirst());
        SampleStatistics expected = SampleStatistics.of(samples);
        assertEquals(expected.median(), stats.path("medianMs").asDouble(), 1e-15);
        assertEquals(expected.percentile(10), stats.path("p10Ms").asDouble(), 1e-15);
        assertEquals(expected.percentile(90), stats.path("p90Ms").asDouble(), 1e-15);
        assertEquals(expected.min(), stats.path("minMs").asDouble());
        assertEquals(expected.max(), stats.path("maxMs").asDouble());
        assertEquals(expected.mean(), stats.path("meanMs").asDouble(), 1e-15);
    }
}

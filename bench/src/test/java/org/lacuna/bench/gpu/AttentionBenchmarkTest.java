package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lacuna.bench.Json;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.BackendProvider;
import org.lacuna.runtime.data.DType;

/** The attention benchmark end to end on the CPU backend, its case list against the anchor script's, and the merge. */
class AttentionBenchmarkTest {
    static final Path SCRIPT = Path.of("anchors", "attention_anchor.py");
    private static final MeasurementPlan QUICK = new MeasurementPlan(2, 0, 4, 3, 1_000, 0);

    private static Backend cpu() {
        return ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cpu")).findFirst().orElseThrow().open(0);
    }

    @Test
    void isRegisteredUnderItsName() {
        assertTrue(GpuBenchMain.registeredBenchmarks(java.util.regex.Pattern.compile("^attention$")).stream()
                .anyMatch(b -> b instanceof AttentionBenchmark));
    }

    @Test
    void everyCaseGivesDenseKeptOverheadAndScoreRowsAnchoredOnDense() {
        try (Backend backend = cpu()) {
            BenchContext context = new BenchContext(backend, QUICK, 1 << 20, Optional.empty());
            AttentionSweep.AttentionCase small = new AttentionSweep.AttentionCase(64, 128, DType.F16, 256);
            List<BenchResult> results = new AttentionBenchmark(List.of(small)).run(context);
            assertEquals(List.of("dense", "kept-0.7", "overhead-0.7", "kept-0.5", "overhead-0.5", "kept-0.3",
                    "overhead-0.3", "cls-scores"), results.stream().map(BenchResult::name).toList());
            BenchResult dense = results.getFirst();
            assertEquals("ok", dense.params().get("outputCheck"));
            assertEquals(4L * 2 * 16 * 64 * 128 * 128, dense.flops());
            for (BenchResult r : results.subList(1, results.size())) {
                assertEquals("dense", r.anchor().name(), r.name());
                assertEquals(dense.medianMs() / r.medianMs(), r.anchor().speedup(), 1e-12);
            }
            BenchResult kept = results.get(3);
            assertEquals(64, kept.params().get("keptPerSequence"));
            assertEquals(4L * 2 * 16 * 64 * 64 * 64, kept.flops());
            assertEquals(1 / (1.25 * 0.25), (double) kept.params().get("targetSpeedup"), 1e-12);
            assertEquals(0, results.get(4).flops(), "overhead rows count bytes only");
            assertEquals(0, backend.memoryStats().inUseBytes(), "the benchmark frees what it allocated");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"all", "headline", "smoke", "d128,s512", "attn-d64-s(1024|8192)"})
    void theAnchorScriptSelectsTheSameCases(String selection) throws Exception {
        assertEquals(AttentionSweep.select(selection).stream().map(AttentionSweep.AttentionCase::id).toList(),
                python("--list-cases", "--cases", selection));
    }

    @Test
    void aTypoFailsOnBothSides() throws Exception {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AttentionSweep.select("smoke,d96"))
                .getMessage().contains("'d96' matches no case"));
        org.junit.jupiter.api.Assumptions.assumeTrue(TwoFourGemmSweepTest.pythonAvailable(), "python3 is not installed");
        Process process = process("--list-cases", "--cases", "smoke,d96");
        assertEquals(2, process.waitFor());
        assertTrue(new String(process.getErrorStream().readAllBytes()).contains("'d96' matches no case"));
    }

    @Test
    void aDryRunOfTheAnchorScriptMergesIntoTheReport() throws Exception {
        Path out = Files.createTempDirectory("anchors").resolve("attention.json");
        python("--dry-run", "--cases", "smoke", "--out", out.toString(), "--samples", "10", "--warmup-ms", "1");
        JsonNode anchors = Json.MAPPER.readTree(out.toFile());
        assertEquals("lacuna-attention-anchor/1", anchors.path("schema").asText());
        BenchResult dense = new BenchResult("dense", new java.util.LinkedHashMap<>(java.util.Map.of("case",
                "attn-d64-s512-f16")), "device", 10, 1, 10, 3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 1, 1, 1, 1, null, null, 1,
                1L, null);
        BenchReport report = new BenchReport(BenchReport.SCHEMA, "a", "b", "ok", null, null, null,
                List.of(new BenchReport.BenchmarkOutcome("attention", "ok", null, 1, List.of(dense))));
        AttentionAnchors.Merged merged = AttentionAnchors.merge(report, anchors, 0, null);
        List<BenchReport.BenchmarkOutcome> outcomes = merged.report().benchmarks();
        assertEquals(List.of("attention", "attention-anchors", "attention-anchors-problems"),
                outcomes.stream().map(BenchReport.BenchmarkOutcome::name).toList());
        List<BenchResult> rows = outcomes.get(1).results();
        BenchResult torch = rows.getFirst();
        assertEquals("pytorch-sdpa-flash", torch.name());
        BenchResult anchored = rows.get(1);
        assertEquals("dense", anchored.name());
        assertEquals(torch.medianMs() / 0.1, anchored.anchor().speedup(), 1e-9);
        // attn-d128-s1024 has no Lacuna row in this report: a problem, not a failure.
        assertEquals("partial", outcomes.get(2).status());
        assertTrue(outcomes.get(2).error().contains("attn-d128-s1024-f16: no Lacuna result"), outcomes.get(2).error());
        assertTrue(merged.table().contains("attn-d64-s512-f16"), merged.table());
    }

    @Test
    void withoutAnchorsTheRecordSaysWhy() {
        BenchReport report = new BenchReport(BenchReport.SCHEMA, "a", "b", "ok", null, null, null, List.of());
        AttentionAnchors.Merged merged = AttentionAnchors.merge(report, null, 0, "PyTorch is not installed");
        BenchReport.BenchmarkOutcome outcome = merged.report().benchmarks().getLast();
        assertEquals("skipped", outcome.status());
        assertEquals("PyTorch is not installed", outcome.error());
    }

    private static Process process(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("python3", "-B", SCRIPT.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("LACUNA_ATTENTION_CASES");
        builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        return builder.start();
    }

    private static List<String> python(String... args) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TwoFourGemmSweepTest.pythonAvailable(), "python3 is not installed");
        assertTrue(Files.isRegularFile(SCRIPT), SCRIPT.toAbsolutePath() + " is missing");
        Process process = process(args);
        process.getOutputStream().close();
        String stdout = new String(process.getInputStream().readAllBytes());
        String stderr = new String(process.getErrorStream().readAllBytes());
        assertTrue(process.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "python3 did not finish");
        assertEquals(0, process.exitValue(), stderr);
        return stdout.lines().toList();
    }
}

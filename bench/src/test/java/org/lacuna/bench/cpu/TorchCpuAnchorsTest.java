package org.lacuna.bench.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.bench.Json;

class TorchCpuAnchorsTest {
    /** What cpu_anchor.py writes, trimmed: one measured result, one error. */
    static final String REPORT = """
            {"schema": "lacuna-cpu-anchor/1", "status": "partial", "dryRun": false,
             "environment": {"torch": "1.13.0a0", "threads": 2, "blasInfo": "generic", "openblasLoaded": true},
             "cases": [
              {"case": "attn-h12d64-b1-s512", "params": {}, "flops": 805306368,
               "results": {
                 "torch-explicit": {"name": "torch-explicit", "kernel": "softmax(q @ k^T * scale) @ v, fp32",
                                    "timer": "wall-clock", "samples": 20, "launchesPerSample": 1, "iterations": 20,
                                    "warmupLaunches": 4, "medianMs": 9.25, "minMs": 9.0, "p10Ms": 9.1,
                                    "p90Ms": 9.9, "maxMs": 12.0, "meanMs": 9.4, "flops": 805306368},
                 "torch-sdpa": {"error": "AttributeError: no scaled_dot_product_attention"}}}]}
            """;

    @Test
    void parsesTimingsAndErrorsByCaseAndResult() throws Exception {
        Map<String, Map<String, Timing>> timings = TorchCpuAnchors.parse(Json.MAPPER.readTree(REPORT));
        Timing explicit = timings.get("attn-h12d64-b1-s512").get("torch-explicit");
        assertTrue(explicit.measured());
        assertEquals(9.25, explicit.medianMs());
        assertEquals(9.9, explicit.p90Ms());
        assertEquals(20, explicit.samples());
        assertEquals("pytorch", explicit.source());
        assertEquals(805306368 / 9.25e6, explicit.gflops(805306368), 1e-9);
        Timing sdpa = timings.get("attn-h12d64-b1-s512").get("torch-sdpa");
        assertFalse(sdpa.measured());
        assertTrue(sdpa.error().contains("AttributeError"));
    }

    @Test
    void readSaysWhatIsWrongWithAReport(@TempDir Path dir) throws Exception {
        TorchCpuAnchors.Report missing = TorchCpuAnchors.read(dir.resolve("none.json"), 2);
        assertNull(missing.json());
        assertTrue(missing.problem().contains("exit 2"), missing.problem());
        Path partial = dir.resolve("a.json");
        Files.writeString(partial, REPORT);
        TorchCpuAnchors.Report ok = TorchCpuAnchors.read(partial, 0);
        assertNull(ok.problem(), "a partial report of a script that exited 0 is usable");
        assertEquals(1, ok.timings().size());
        Files.writeString(partial, "{not json");
        assertTrue(TorchCpuAnchors.read(partial, 0).problem().startsWith("unreadable"));
    }

    @Test
    void theSpecListsOnlyWhatPytorchMeasures(@TempDir Path dir) throws Exception {
        Path spec = dir.resolve("spec.json");
        int written = TorchCpuAnchors.writeSpec(spec, CpuSuite.full().cases(), 2);
        JsonNode json = Json.MAPPER.readTree(spec.toFile());
        assertEquals(TorchCpuAnchors.SPEC_SCHEMA, json.path("schema").asText());
        assertEquals(3 + 8 + 1, written); // dense linears, dense attentions, the tiny op
        JsonNode first = json.path("cases").get(0);
        assertEquals("dense-128x384x1536", first.path("case").asText());
        assertEquals("linear", first.path("kind").asText());
        assertEquals(768, json.path("cases").get(1).path("params").path("in").asInt());
        assertEquals(2L * 128 * 384 * 1536, first.path("flops").asLong());
    }

    @Test
    void aMissingInterpreterIsAClearReason() {
        String why = TorchCpuAnchors.unavailable("/nonexistent/python3");
        assertNotNull(why);
        assertTrue(why.contains("/nonexistent/python3"), why);
    }

    /** A python that hangs writing nothing: the probe's timeout must still fire (it once blocked reading output). */
    @Test
    void aHangingInterpreterTimesOut(@TempDir Path dir) throws Exception {
        Path python = dir.resolve("python3");
        Files.writeString(python, "#!/bin/sh\nexec sleep 30\n");
        Assumptions.assumeTrue(python.toFile().setExecutable(true), "cannot make a script executable here");
        String why = TorchCpuAnchors.unavailable(python.toString(), 1);
        assertNotNull(why);
        assertTrue(why.contains("did not finish in 1 s"), why);
    }

    /** cpu_anchor.py of the bench module; the test is skipped where it or python3 is missing. */
    static Path script() throws Exception {
        Path script = Path.of("anchors/cpu_anchor.py");
        Assumptions.assumeTrue(Files.isRegularFile(script), "run from the bench module");
        Assumptions.assumeTrue(TorchCpuAnchors.run(List.of("python3", "--version"), 30) == 0, "no python3");
        return script;
    }

    /** The quick suite's spec, written into {@code dir}. */
    private static Path quickSpec(Path dir) throws Exception {
        Path spec = dir.resolve("spec.json");
        TorchCpuAnchors.writeSpec(spec, CpuSuite.quick().cases(), 2);
        return spec;
    }

    /** The script's dry run (simulated timings, no torch) on the real spec reads back as timings for every case. */
    @Test
    void theScriptsDryRunMergesBack(@TempDir Path dir) throws Exception {
        Path script = script();
        Path spec = quickSpec(dir);
        Path out = dir.resolve("out.json");
        List<String> command = new ArrayList<>(List.of("python3", script.toString(), "--spec", spec.toString(),
                "--dry-run", "--out", out.toString()));
        command.addAll(TorchCpuAnchors.planArguments(2, 5, 1, 10, 2));
        assertEquals(0, TorchCpuAnchors.run(command, 60));
        TorchCpuAnchors.Report report = TorchCpuAnchors.read(out, 0);
        assertNull(report.problem());
        Map<String, Map<String, Timing>> timings = report.timings();
        for (CpuCase c : CpuSuite.quick().cases()) {
            if (TorchCpuAnchors.kind(c.family()) != null) {
                Timing peer = timings.get(c.id()).get(CpuBenchMain.peerName(c.family()));
                assertTrue(peer.measured(), c.id());
            }
        }
    }

    /**
     * The script's serve mode (simulated timings) through {@link CpuAnchorServer}: ready, one reply per request in
     * the order asked, an unknown case answered without killing the process, a clean quit.
     */
    @Test
    void theServedScriptAnswersCaseByCase(@TempDir Path dir) throws Exception {
        try (CpuAnchorServer server = CpuAnchorServer.start(List.of("python3", script().toString(), "--spec",
                quickSpec(dir).toString(), "--serve", "--dry-run"), 60)) {
            assertNull(server.failure());
            assertTrue(server.environment().path("simulated").asBoolean());
            for (int round = 0; round < 2; round++) {
                for (CpuCase c : CpuSuite.quick().cases()) {
                    if (TorchCpuAnchors.kind(c.family()) != null) {
                        Map<String, Timing> timings = server.measure(c.id(),
                                AnchoredRounds.roundPlan(CpuBenchMain.QUICK_PLAN, round, 2));
                        assertTrue(timings.get(CpuBenchMain.peerName(c.family())).measured(), c.id());
                    }
                }
            }
            assertTrue(server.measure("no-such-case", CpuBenchMain.QUICK_PLAN).isEmpty());
            assertNull(server.failure(), "an unknown case is answered, not fatal");
            assertTrue(server.measure(CpuSuite.quick().cases().getFirst().id(), CpuBenchMain.QUICK_PLAN)
                    .get("torch-mm").measured());
        }
    }

    /** A process that exits before its ready line: the server says so, and answers nothing without waiting. */
    @Test
    void aServerThatDiesSaysWhy() throws Exception {
        Assumptions.assumeTrue(TorchCpuAnchors.run(List.of("python3", "--version"), 30) == 0, "no python3");
        try (CpuAnchorServer server = CpuAnchorServer.start(List.of("python3", "-c",
                "import sys; print('cannot import torch'); sys.exit(3)"), 60)) {
            assertNotNull(server.failure());
            assertTrue(server.failure().contains("exit 3"), server.failure());
            assertTrue(server.measure("dense-16x64x128", CpuBenchMain.QUICK_PLAN).isEmpty());
        }
    }

    /** A case may take its plan's warm-up and measuring four times over plus two minutes, never the anchor's limit. */
    @Test
    void aCaseWaitsItsPlanNotTheWholeAnchorsLimit() {
        org.lacuna.bench.measure.MeasurementPlan plan = new org.lacuna.bench.measure.MeasurementPlan(3, 4000, 30, 5,
                1500, 10);
        assertEquals(120 + 4 * 6, CpuAnchorServer.requestTimeoutSeconds(plan, 1800));
        assertEquals(60, CpuAnchorServer.requestTimeoutSeconds(plan, 60));
    }
}

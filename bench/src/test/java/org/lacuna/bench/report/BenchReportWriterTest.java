package org.lacuna.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.bench.Json;

/** The report writer on small made-up results: every file is there and carries the numbers it was given. */
class BenchReportWriterTest {
    @TempDir
    Path dir;

    @Test
    void writesJsonMarkdownAndPlotsWithTheGivenNumbers() throws Exception {
        BenchRun run = fakeRun();
        BenchReportWriter.Written written = BenchReportWriter.write(run, dir, "fake");

        assertEquals(dir.resolve("fake.json"), written.json());
        JsonNode json = Json.MAPPER.readTree(written.json().toFile());
        assertEquals(BenchRun.SCHEMA, json.path("schema").asText());
        assertEquals(0.8731, json.path("rows").get(0).path("speedup").asDouble(), 1e-12);
        assertEquals(0.4217, json.path("rows").get(1).path("fractionOfPeak").asDouble(), 1e-12);
        assertEquals(0.99123, json.path("sparsity").path("rows").get(1).path("meanCosine").asDouble(), 1e-12);
        assertEquals(0.95017, json.path("sparsity").path("rows").get(1).path("minCosine").asDouble(), 1e-12);
        assertEquals("skipped: cuda unavailable (no GPU)", json.path("suites").path("gpu").asText());

        String md = Files.readString(written.markdown());
        assertTrue(md.contains("| 2:4 ffn | 2:4 ffn | 0.9912 | 0.9502 | 80.0 | 400.0 | 1.25x |"), md);
        assertTrue(md.contains("| dense-128x384x1536 | DENSE_LINEAR | 1.277 | torch-mm | 1.115 | 0.873x | 33.0 |"), md);
        assertTrue(md.contains("| attn-b1-s512 | ATTENTION | 9.997 | - | - | - | 42.2 |"), md);
        assertTrue(md.contains("gpu: skipped: cuda unavailable (no GPU)"), md);

        List<String> plots = run.sparsity() == null ? List.of() : List.of("fake-speedup-cpu.png", "fake-peak-cpu.png",
                "fake-sparsity-mean-cosine.png", "fake-sparsity-min-cosine.png");
        assertEquals(plots, written.plots().stream().map(p -> p.getFileName().toString()).toList());
        for (Path plot : written.plots()) {
            BufferedImage image = ImageIO.read(plot.toFile());
            assertNotNull(image, plot + " is a PNG");
            assertEquals(BenchPlots.WIDTH, image.getWidth());
            assertEquals(BenchPlots.HEIGHT, image.getHeight());
            assertTrue(md.contains("](fake/" + plot.getFileName() + ")"), "the report shows " + plot.getFileName());
        }
        assertEquals(plots, Json.MAPPER.convertValue(json.path("plots"), List.class));
    }

    @Test
    void aRunWithoutMeasurementsStillWritesItsReport() throws Exception {
        BenchRun empty = new BenchRun(BenchRun.SCHEMA, "2026-12-06T03:00:00Z", "quick", Map.of("cpu", "test"),
                Map.of("cpu", "failed: boom"), List.of(), null, Map.of(), List.of(), List.of());
        BenchReportWriter.Written written = BenchReportWriter.write(empty, dir, "empty");
        assertTrue(written.plots().isEmpty());
        assertTrue(Files.readString(written.markdown()).contains("cpu: failed: boom"));
        assertEquals("failed: boom", Json.MAPPER.readTree(written.json().toFile()).path("suites").path("cpu").asText());
    }

    static BenchRun fakeRun() {
        List<ReportRow> rows = List.of(
                new ReportRow("cpu", "dense-128x384x1536", "DENSE_LINEAR", 1.277, "torch-mm", 1.115, 0.8731, 0.33,
                        ReportRow.CPU_PEAK),
                new ReportRow("cpu", "attn-b1-s512", "ATTENTION", 9.997, null, null, null, 0.4217,
                        ReportRow.CPU_PEAK));
        SparsityRecord sparsity = new SparsityRecord("all-MiniLM-L6-v2", "fake corpus", 32, 1500, 32, 3, 32,
                "cpu (test)", 2, List.of(
                new SparsityRecord.Row("dense", "dense", 1.0, 1.0, 100.0, 95.0, 110.0, 320.0, 1.0),
                new SparsityRecord.Row("2:4 ffn", "2:4 ffn", 0.99123, 0.95017, 80.0, 79.0, 85.0, 400.0, 1.25)),
                List.of("made up"));
        Map<String, String> suites = new LinkedHashMap<>();
        suites.put("cpu", "ran 2 cases");
        suites.put("gpu", "skipped: cuda unavailable (no GPU)");
        return new BenchRun(BenchRun.SCHEMA, "2026-12-06T03:00:00Z", "quick", Map.of("cpu", "test CPU"), suites,
                rows, sparsity, Map.of(), List.of(), List.of("a note"));
    }
}

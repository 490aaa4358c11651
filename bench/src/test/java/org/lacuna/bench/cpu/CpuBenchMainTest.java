package org.lacuna.bench.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.bench.Json;
import picocli.CommandLine;

/** The whole runner at toy sizes, peers off: Lacuna's cases run, the record is written, the skips say why. */
class CpuBenchMainTest {
    @Test
    void quickRunWritesARecordWithEveryCaseAndTarget(@TempDir Path dir) throws Exception {
        int exit = new CommandLine(new CpuBenchMain()).execute("--quick", "--no-onnx", "--python",
                "/nonexistent/python3", "--out-dir", dir.toString(), "--name", "record", "--samples", "2",
                "--note", "smoke test");
        assertEquals(0, exit);
        JsonNode record = Json.MAPPER.readTree(dir.resolve("record.json").toFile());
        assertEquals(CpuRecord.SCHEMA, record.path("schema").asText());
        assertEquals("quick", record.path("suite").asText());
        assertTrue(record.path("machine").path("logicalCores").asInt() >= 1);
        assertTrue(record.path("anchors").path("pytorch").asText().contains("/nonexistent/python3"));
        assertEquals("skipped: --no-onnx", record.path("anchors").path("onnxruntime").asText());

        Set<String> ids = new HashSet<>();
        for (JsonNode row : record.path("cases")) {
            ids.add(row.path("id").asText());
        }
        for (CpuCase c : CpuSuite.quick().cases()) {
            assertTrue(ids.contains(c.id()), c.id());
        }
        assertTrue(ids.contains("minkunet-b1-end-to-end"));
        JsonNode dense = record.path("cases").get(0);
        assertTrue(dense.path("lacuna").path("medianMs").asDouble() > 0);
        assertTrue(dense.path("lacuna").path("relativeError").asDouble() < 1e-3);
        assertTrue(dense.path("peer").path("error").asText().startsWith("skipped"));
        assertTrue(record.path("targets").size() >= CpuSuite.quick().cases().size());
        String markdown = Files.readString(dir.resolve("record.md"));
        assertTrue(markdown.contains("## Targets"));
        assertTrue(markdown.contains("smoke test"));
    }

    /**
     * The same run with PyTorch's side on the anchors' dry runs (a stand-in interpreter that answers the torch probe
     * and adds --dry-run to every script): each anchored case is timed in rounds taking turns, its speed-up is the
     * median of the rounds' ratios, and MinkUNet's anchor still runs after Lacuna's.
     */
    @Test
    void quickRunTakesTurnsWithTheAnchorInRounds(@TempDir Path dir) throws Exception {
        Path anchors = TorchCpuAnchorsTest.script().toAbsolutePath().getParent();
        Path python = dir.resolve("python3");
        Files.writeString(python, "#!/bin/sh\nif [ \"$1\" = -c ]; then exit 0; fi\nexec python3 \"$@\" --dry-run\n");
        Assumptions.assumeTrue(python.toFile().setExecutable(true), "cannot make a script executable here");
        int exit = new CommandLine(new CpuBenchMain()).execute("--quick", "--no-onnx", "--python", python.toString(),
                "--anchors-dir", anchors.toString(), "--out-dir", dir.toString(), "--name", "record", "--samples",
                "2", "--rounds", "3", "--filter", "^(dense|attn-h2d64-b1-s32$|tiny|minkunet)");
        assertEquals(0, exit);
        JsonNode record = Json.MAPPER.readTree(dir.resolve("record.json").toFile());
        assertTrue(record.path("anchors").path("pytorch").asText().contains("3 round(s)"),
                record.path("anchors").path("pytorch").asText());
        Set<String> anchored = new HashSet<>();
        for (JsonNode row : record.path("cases")) {
            String id = row.path("id").asText();
            if (id.equals("minkunet-b1-end-to-end")) {
                assertTrue(row.path("peer").path("medianMs").asDouble() > 0, "MinkUNet's anchor ran");
                assertTrue(row.path("rounds").isMissingNode());
                continue;
            }
            anchored.add(id);
            JsonNode rounds = row.path("rounds");
            assertEquals(3, rounds.path("count").asInt(), id);
            assertEquals(3, rounds.path("ratios").size(), id);
            assertEquals(rounds.path("medianRatio").asDouble(), row.path("speedup").asDouble(), 1e-12, id);
            assertTrue(rounds.path("minRatio").asDouble() <= rounds.path("medianRatio").asDouble(), id);
            assertTrue(row.path("peer").path("medianMs").asDouble() > 0, id);
        }
        assertEquals(Set.of("dense-16x64x128", "attn-h2d64-b1-s32", "tiny-linear-1x64x64"), anchored);
        assertTrue(Files.readString(dir.resolve("record.md")).contains(", 3 rounds)"));
    }
}

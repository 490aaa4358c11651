package org.lacuna.bench.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
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
}

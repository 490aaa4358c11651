package org.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lacuna plan} explains a real model run on a scan and on texts, in text and JSON, with a trace. */
class PlanCommandTest {
    @TempDir
    Path dir;

    /** A small KITTI-format scan: a ground plane and a box, 16 bytes a point. */
    private Path scan() throws IOException {
        Random random = new Random(5);
        int n = 600;
        ByteBuffer b = ByteBuffer.allocate(n * 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            boolean ground = i % 3 != 0;
            b.putFloat(random.nextFloat() * 8).putFloat(random.nextFloat() * 8)
                    .putFloat(ground ? 0 : 1 + random.nextFloat()).putFloat(random.nextFloat());
        }
        Path file = dir.resolve("scan.bin");
        Files.write(file, b.array());
        return file;
    }

    @Test
    void plansMinkUNetOnAScanAndWritesATrace() throws IOException {
        Path trace = dir.resolve("trace.json");
        String[] r = CliRun.run("plan", "--backend", "cpu", "--scan", scan().toString(), "--voxel", "0.25",
                "--json", "--trace", trace.toString());
        assertEquals("0", r[0], r[2]);
        JsonNode plan = new ObjectMapper().readTree(r[1]);
        JsonNode layers = plan.get("layers");
        assertTrue(layers.size() > 10, "a decision per convolution layer: " + layers.size());
        Set<String> kinds = new HashSet<>();
        layers.forEach(l -> kinds.add(l.get("decision").get("kind").asText()));
        assertTrue(kinds.contains("sparse-conv"), kinds::toString);
        JsonNode first = layers.get(0).get("decision");
        assertTrue(first.get("statistics").get("averageNeighbours").asDouble() >= 1);
        assertTrue(first.get("reason").asText().length() > 10);
        // Layers carry their names in MinkUNet's state dict, in the plan and in the trace.
        Set<String> names = new HashSet<>();
        layers.forEach(l -> names.add(l.get("layer").asText()));
        assertTrue(names.containsAll(Set.of("stem.0", "stage1.0.net.0", "stage1.1.net.3", "up4.1.1.net.0",
                "classifier.0")), names::toString);
        JsonNode events = new ObjectMapper().readTree(trace.toFile()).get("traceEvents");
        assertTrue(events.size() >= layers.size(), events.size() + " trace events");
        Set<String> traced = new HashSet<>();
        events.forEach(e -> traced.add(e.get("name").asText()));
        assertTrue(traced.containsAll(Set.of("stem.3", "stage4.2.net.0", "classifier.0")), traced::toString);
        assertTrue(r[2].contains("choosing"), r[2]);
    }

    @Test
    void plansTheSentenceEncoderOnTexts() {
        String[] r = CliRun.run("plan", "--backend", "cpu", "--policy", "predicted-only", "A man is eating food.",
                "Someone is having a meal.");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("policy: predicted-only"), r[1]);
        assertTrue(r[1].contains("[linear]") && r[1].contains("tokens="), r[1]);
        // The encoder's layers by index and role.
        assertTrue(r[1].contains("encoder.0.attention.qkv  [linear]") && r[1].contains("encoder.5.ffn.up  [linear]")
                && r[1].contains("encoder.3.ffn.down  [linear]") && r[1].contains("encoder.2.attention.out  [linear]"),
                r[1]);
        assertTrue(r[1].contains("blas-dense") || r[1].contains("vector-dense") || r[1].contains("java-dense"), r[1]);
    }

    @Test
    void badInputIsRefusedWithAReason() {
        String[] neither = CliRun.run("plan");
        assertEquals("1", neither[0]);
        assertTrue(neither[2].contains("--scan"), neither[2]);
        String[] badPolicy = CliRun.run("plan", "--backend", "cpu", "--policy", "quickest", "hello");
        assertEquals("1", badPolicy[0], badPolicy[2]);
        assertTrue(badPolicy[2].contains("quickest"), badPolicy[2]);
        // The MinkUNet options are segment's, checked the same way.
        String[] badVoxel = CliRun.run("plan", "--backend", "cpu", "--scan", dir.resolve("none.bin").toString(),
                "--voxel-size", "-1");
        assertEquals("1", badVoxel[0], badVoxel[2]);
        assertTrue(badVoxel[2].contains("--voxel-size must be a positive number"), badVoxel[2]);
        // A missing scan is bad input, exit 2, as for every other command.
        String[] missing = CliRun.run("plan", "--backend", "cpu", "--scan", dir.resolve("none.bin").toString());
        assertEquals("2", missing[0], missing[2]);
        assertTrue(missing[2].contains("none.bin"), missing[2]);
    }
}

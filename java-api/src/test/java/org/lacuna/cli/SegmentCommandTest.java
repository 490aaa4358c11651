package org.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.io.NpyArray;
import org.lacuna.api.io.NpyReader;
import org.lacuna.api.io.PlyReader;
import org.lacuna.api.io.PointClouds;
import org.lacuna.api.io.Safetensors;
import org.lacuna.api.pointcloud.LabelColours;
import org.lacuna.runtime.backend.Backends;
import org.lacuna.runtime.pointcloud.PointCloud;

/** {@code lacuna segment}: the README's command on the real KITTI sweep, the outputs' contents and the exit codes. */
class SegmentCommandTest {
    static final Path SWEEP = Path.of("").toAbsolutePath().getParent().getParent()
            .resolve("shared/data/kitti-velodyne-000001.bin");

    @TempDir
    Path dir;

    @Test
    void theKittiSweepIsSegmentedAndEveryOutputHoldsWhatTheSummarySays() throws IOException {
        Assumptions.assumeTrue(Files.isRegularFile(SWEEP), "the real KITTI sweep is not at " + SWEEP);
        String[] result = CliRun.run("segment", SWEEP.toString(), "--backend", "cpu", "-o", dir.toString());
        assertEquals("0", result[0], result[1] + result[2]);
        String out = result[1];
        assertTrue(out.contains("kitti-velodyne-000001.bin: 120,610 points -> 86,068 voxels at 0.05 m"), out);
        assertTrue(out.contains("weights: RANDOM (seed 0): the labels below mean nothing"), out);
        assertTrue(out.contains("ran on: cpu ("), out);
        for (String step : List.of("stem", "stage1", "stage4", "up1", "up4", "classifier")) {
            assertTrue(out.contains("\n  " + step + " "), step + " in " + out);
        }
        assertTrue(out.contains("submanifold k3 s1 4->32"), out);
        // The steps it really ran, and every layer call timed under its name in MinkUNet's state dict.
        assertTrue(out.contains("MinkUNet's 10 steps (stem, stage1, stage2, stage3, stage4, up1, up2, up3, up4, "
                + "classifier: 50 layer calls)"), out);
        assertTrue(out.contains("\n  stem.0 ") && out.contains("\n  up4.1.1.net.3 ")
                && out.contains("\n  classifier.0 "), out);
        assertTrue(result[2].contains("[5/5] writing to"), result[2]);

        PointCloud sweep = PointClouds.read(SWEEP);
        NpyArray npy = NpyReader.read(dir.resolve("kitti-velodyne-000001.labels.npy"));
        assertArrayEquals(new long[] {120_610}, npy.shape());
        int[] labels = npy.toInts();
        long[] counts = new long[19];
        for (int label : labels) {
            assertTrue(label >= 0 && label < 19, "label " + label);
            counts[label]++;
        }

        JsonNode json = new ObjectMapper().readTree(dir.resolve("kitti-velodyne-000001.segmentation.json").toFile());
        assertEquals(120_610, json.get("points").asInt());
        assertEquals(86_068, json.get("voxels").asInt());
        assertTrue(json.get("randomWeights").asBoolean());
        assertEquals("cpu", json.get("backend").asText());
        assertEquals(10, json.get("layers").size());
        assertEquals(86_068, json.get("layers").get(9).get("voxels").asInt());
        assertEquals(50, json.get("layerCalls").size(), "one pass profiled");
        // The network time comes from a pass without the profiler's per-call timing; the profiled pass is said apart.
        assertTrue(out.contains("(a planned pass without per-layer timing; the first, planning and per-layer timed "
                + "pass: network "), out);
        assertTrue(json.get("millis").get("network").asDouble() > 0, json.get("millis").toString());
        assertTrue(json.get("millis").get("profiledNetwork").asDouble() > 0, json.get("millis").toString());
        assertEquals("stage1.0.net.0", json.get("layerCalls").get(2).get("layer").asText());
        assertTrue(json.get("layerCalls").get(2).get("millis").asDouble() > 0);
        Iterator<Map.Entry<String, JsonNode>> histogram = json.get("classHistogram").fields();
        for (int c = 0; c < 19; c++) {
            Map.Entry<String, JsonNode> entry = histogram.next();
            assertEquals(LabelColours.SEMANTIC_KITTI_NAMES.get(c), entry.getKey());
            assertEquals(counts[c], entry.getValue().asLong(), entry.getKey());
            if (counts[c] > 0) {
                assertTrue(out.contains(String.format(java.util.Locale.ROOT, "%,9d", counts[c])), out);
            }
        }

        PointCloud ply = PlyReader.read(dir.resolve("kitti-velodyne-000001.labels.ply"));
        assertEquals(sweep.size(), ply.size());
        assertArrayEquals(sweep.xs(), ply.xs());
        assertArrayEquals(sweep.zs(), ply.zs());
        float[] plyLabels = ply.channel("label");
        float[] red = ply.channel("red");
        float[] blue = ply.channel("blue");
        int[] palette = LabelColours.forClasses(19);
        for (int p = 0; p < labels.length; p++) {
            assertEquals(labels[p], (int) plyLabels[p], "point " + p);
            assertEquals(palette[labels[p]] >> 16 & 0xFF, (int) red[p], "red of point " + p);
            assertEquals(palette[labels[p]] & 0xFF, (int) blue[p], "blue of point " + p);
        }
    }

    @Test
    void textLabelsForANpyCloudWithWeightsFromAFile() throws IOException {
        Path cloud = dir.resolve("cloud.npy");
        int n = 300;
        float[][] rows = new float[n][3];
        for (int i = 0; i < n; i++) {
            rows[i] = new float[] {(i % 20) * 0.3f, (i / 20) * 0.3f, (i % 7) * 0.1f};
        }
        try (var o = Files.newOutputStream(cloud)) {
            org.lacuna.api.io.NpyWriter.writeFloat32(o, rows);
        }
        String[] random = CliRun.run("segment", cloud.toString(), "--backend", "cpu", "--voxel-size", "0.25",
                "--classes", "4", "--seed", "5", "--channel-ratio", "0.25", "--labels", "txt", "--no-ply", "-q", "-o", dir.toString());
        assertEquals("0", random[0], random[1] + random[2]);
        assertEquals("", random[2], "--quiet prints no progress");
        List<String> lines = Files.readAllLines(dir.resolve("cloud.labels.txt"));
        assertEquals(n, lines.size());
        assertTrue(lines.stream().allMatch(l -> l.matches("[0-3]")), lines.toString());
        assertFalse(Files.exists(dir.resolve("cloud.labels.ply")));
        assertTrue(random[1].contains("class 0") || random[1].contains("class 1"), random[1]);
    }

    @Test
    void exitCodesTellUsageFromBadInputFromFailure() throws IOException {
        Path empty = Files.write(dir.resolve("empty.bin"), new byte[0]);
        String[] emptyRun = CliRun.run("segment", empty.toString(), "-o", dir.toString());
        assertEquals("2", emptyRun[0], emptyRun[2]);
        assertTrue(emptyRun[2].contains(empty.toString()) && emptyRun[2].contains("is empty"), emptyRun[2]);

        String[] missing = CliRun.run("segment", dir.resolve("absent.pcd").toString());
        assertEquals("2", missing[0]);
        assertTrue(missing[2].contains("absent.pcd") && missing[2].contains("no such file"), missing[2]);

        Path truncated = Files.write(dir.resolve("cut.bin"), new byte[40]);
        String[] cut = CliRun.run("segment", truncated.toString());
        assertEquals("2", cut[0]);
        assertTrue(cut[2].contains("cut.bin") && cut[2].contains("truncated?"), cut[2]);

        Path scan = Files.write(dir.resolve("one.bin"), ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN)
                .putFloat(1).putFloat(2).putFloat(0).putFloat(0.5f).putFloat(1.5f).putFloat(2).putFloat(0)
                .putFloat(0.1f).array());
        Path badWeights = dir.resolve("bad.safetensors");
        Safetensors.write(badWeights, List.of(new Safetensors.Entry("stem.0.kernel", "F32", new long[] {27, 4, 7},
                new float[27 * 4 * 7])));
        String[] mismatch = CliRun.run("segment", scan.toString(), "--weights", badWeights.toString(), "-o",
                dir.toString());
        assertEquals("2", mismatch[0], mismatch[2]);
        assertTrue(mismatch[2].contains("stem.0.kernel") && mismatch[2].contains("[27, 4, 7]"), mismatch[2]);

        assertEquals("1", CliRun.run("segment", scan.toString(), "--voxel-size", "-1")[0]);
        assertEquals("1", CliRun.run("segment", scan.toString(), "--channel-ratio", "0")[0]);
        assertEquals("1", CliRun.run("segment", scan.toString(), "--backend", "tpu")[0]);
        assertEquals("1", CliRun.run("segment")[0]);
        String[] classes = CliRun.run("segment", scan.toString(), "--classes", "0");
        assertEquals("1", classes[0]);
        assertTrue(classes[2].contains("--classes"), classes[2]);

        if (!Backends.survey().stream().filter(c -> c.provider().name().equals("cuda")).findFirst().orElseThrow()
                .availability().available()) {
            String[] cuda = CliRun.run("segment", scan.toString(), "--backend", "cuda", "-o", dir.toString());
            assertEquals("3", cuda[0], cuda[2]);
            assertTrue(cuda[2].contains("cuda is unavailable"), cuda[2]);
        }
    }
}

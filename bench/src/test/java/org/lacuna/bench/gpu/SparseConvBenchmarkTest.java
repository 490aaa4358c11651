package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.io.Safetensors;
import org.lacuna.bench.Json;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.BackendProvider;
import org.lacuna.runtime.sparseconv.KernelMap;

/**
 * The sparse-conv benchmark end to end on the CPU backend (a small synthetic surface, MinkUNet at a few channels,
 * since the CPU reference is slow), its export read back, its case list against the anchor script's, and the
 * anchor's dry run merged into the report.
 */
class SparseConvBenchmarkTest {
    static final Path SCRIPT = Path.of("anchors", "sparse_conv_anchor.py");
    private static final MeasurementPlan QUICK = new MeasurementPlan(1, 0, 3, 3, 1_000, 0);
    private static final int[] TINY = {4, 4, 8, 8, 8, 8, 8, 4, 4};
    private static final int IN = 3;

    @TempDir
    static Path exportDir;
    private static List<BenchResult> results;
    private static SparseConvNetwork network;
    private static long leftAllocated;

    /** A tilted, wavy surface of voxels spanning 40 × 40 cells: enough for four stride-2 levels to stay non-trivial. */
    static int[] surface() {
        List<int[]> rows = new ArrayList<>();
        for (int x = 0; x < 40; x++) {
            for (int y = 0; y < 40; y += 1 + (x % 3 == 0 ? 1 : 0)) {
                rows.add(new int[] {0, x, y, (x + y) / 5 + (int) Math.round(2 * Math.sin(x / 4.0))});
            }
        }
        return rows.stream().flatMapToInt(java.util.Arrays::stream).toArray();
    }

    private static Backend cpu() {
        return ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cpu")).findFirst().orElseThrow().open(0);
    }

    @BeforeAll
    static void runOnTheCpu() throws Exception {
        int[] voxels = surface();
        try (Backend backend = cpu()) {
            BenchContext context = new BenchContext(backend, QUICK, 1 << 20, Optional.empty());
            results = new SparseConvBenchmark(() -> Optional.of(voxels), "synthetic surface", IN, TINY, List.of(1, 2),
                    exportDir).run(context);
            leftAllocated = backend.memoryStats().inUseBytes();
        }
        network = SparseConvNetwork.build(SparseConvNetwork.batched(voxels, 2), IN, TINY);
    }

    @Test
    void isRegisteredUnderItsName() {
        assertTrue(GpuBenchMain.registeredBenchmarks(java.util.regex.Pattern.compile("^sparse-conv$")).stream()
                .anyMatch(b -> b instanceof SparseConvBenchmark));
    }

    @Test
    void everyLayerIsTimedBothWaysWithItsUsefulFlopsAndMapStatistics() {
        assertEquals(0, leftAllocated, "the benchmark frees what it allocated");
        List<String> keys = SparseConvNetwork.layerKeys(IN, TINY);
        assertEquals(network.layers().stream().map(SparseConvNetwork.Layer::key).toList(), keys);
        for (SparseConvNetwork.Layer layer : network.layers()) {
            String id = SparseConvBenchmark.layerCase(2, layer.key());
            List<BenchResult> rows = results.stream().filter(r -> id.equals(r.params().get("case"))).toList();
            assertEquals(List.of(SparseConvBenchmark.GATHER, SparseConvBenchmark.IMPLICIT),
                    rows.stream().map(BenchResult::name).toList(), id);
            for (BenchResult r : rows) {
                assertEquals(2L * layer.pairs() * layer.in() * layer.out(), r.flops(), id);
                assertEquals(layer.pairs(), ((Number) r.params().get("pairs")).longValue(), id);
                assertEquals("ok", r.params().get("dataflowsAgree"), id);
                double unsorted = (double) r.params().get("redundancyUnsorted");
                double sorted = (double) r.params().get("redundancySorted");
                assertTrue(unsorted >= 1 && sorted >= 1 && sorted <= unsorted + 1e-12, id + " " + r.params());
            }
            assertEquals(SparseConvBenchmark.GATHER, rows.get(1).anchor().name());
        }
        // The 1×1×1 projections have exactly one pair per voxel, the strided maps at least one per output.
        SparseConvNetwork.Layer projection = network.layers().stream()
                .filter(l -> l.key().equals("up4.1.0.downsample.0")).findFirst().orElseThrow();
        assertEquals(projection.map().inputCount(), projection.pairs());
        assertEquals(2 * surface().length / 4, projection.map().inputCount(), "batch 2 holds two copies");
    }

    @Test
    void endToEndSumsTheLayersAndTheMapsAreTimedOnTheirOwnLines() {
        for (int batch : List.of(1, 2)) {
            String id = SparseConvBenchmark.endToEndCase(batch);
            List<BenchResult> rows = results.stream().filter(r -> id.equals(r.params().get("case"))).toList();
            assertEquals(List.of(SparseConvBenchmark.GATHER, SparseConvBenchmark.IMPLICIT, SparseConvBenchmark.CHOSEN),
                    rows.stream().map(BenchResult::name).toList());
            if (batch == 2) {
                assertEquals(network.usefulFlops(), rows.getFirst().flops());
            }
            assertEquals(network.layers().size(), ((Number) rows.getFirst().params().get("layers")).intValue());
            String maps = SparseConvBenchmark.mapsCase(batch);
            assertEquals(List.of("map-build-host", "map-build-device"), results.stream()
                    .filter(r -> maps.equals(r.params().get("case"))).map(BenchResult::name).toList());
        }
    }

    @Test
    void theExportHoldsTheExactMapsAndWeights() throws IOException {
        JsonNode manifest = Json.MAPPER.readTree(exportDir.resolve(SparseConvExport.MANIFEST).toFile());
        assertEquals(SparseConvExport.SCHEMA, manifest.path("schema").asText());
        Map<String, Safetensors.Entry> weights = Safetensors.read(exportDir.resolve(SparseConvExport.WEIGHTS));
        for (SparseConvNetwork.Layer layer : network.layers()) {
            assertArrayEquals(layer.weights(), weights.get(layer.key() + ".kernel").values(), layer.key());
        }
        JsonNode entry = null;
        for (JsonNode c : manifest.path("cases")) {
            if (c.path("case").asText().equals(SparseConvBenchmark.layerCase(2, "stage1.1.net.0"))) {
                entry = c;
            }
        }
        assertNotNull(entry);
        KernelMap map = network.layers().stream().filter(l -> l.key().equals("stage1.1.net.0")).findFirst()
                .orElseThrow().map();
        assertEquals(map.inputCount(), entry.path("inputRows").asInt());
        assertEquals(map.outputCount(), entry.path("outputRows").asInt());
        for (int v = 0; v < map.volume(); v++) {
            assertEquals(map.pairCount(v), entry.path("pairsPerOffset").get(v).asLong());
        }
        int[][] pairs = readPairs(exportDir.resolve(entry.path("pairsFile").asText()));
        assertArrayEquals(map.pairInputs(), pairs[0]);
        assertArrayEquals(map.pairOutputs(), pairs[1]);
    }

    /** The .npy as NumPy writes it: magic, version 1.0, a 64-byte-aligned header, then the int32 values. */
    private static int[][] readPairs(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals((byte) 0x93, bytes.get(0));
        int headerLength = bytes.getShort(8) & 0xffff;
        assertEquals(0, (10 + headerLength) % 64, "NumPy aligns the data to 64 bytes");
        String header = new String(Files.readAllBytes(file), 10, headerLength, java.nio.charset.StandardCharsets.ISO_8859_1);
        int cols = Integer.parseInt(header.replaceAll("(?s).*'shape': \\(2, (\\d+)\\).*", "$1").strip());
        bytes.position(10 + headerLength);
        int[][] out = new int[2][cols];
        for (int[] row : out) {
            for (int i = 0; i < cols; i++) {
                row[i] = bytes.getInt();
            }
        }
        return out;
    }

    @Test
    void theAnchorScriptNamesTheSameCases() throws Exception {
        List<String> java = new ArrayList<>();
        for (int batch : List.of(1, 4)) {
            SparseConvNetwork.layerKeys(SparseConvNetwork.DEFAULT_IN_CHANNELS, SparseConvNetwork.DEFAULT_CHANNELS)
                    .forEach(k -> java.add(SparseConvBenchmark.layerCase(batch, k)));
            java.add(SparseConvBenchmark.endToEndCase(batch));
        }
        assertEquals(java, python("--list-cases", "--batches", "1,4"));
        // From the export, the cases are exactly the timed ones of the Java run, in its order.
        List<String> timed = results.stream().filter(r -> !r.name().startsWith("map-build"))
                .map(r -> r.params().get("case").toString()).distinct().toList();
        assertEquals(timed, python("--list-cases", "--export", exportDir.toString()));
    }

    @Test
    void aDryRunOfTheAnchorScriptMergesIntoTheReport() throws Exception {
        Path out = exportDir.resolve("anchors.json");
        python("--dry-run", "--export", exportDir.toString(), "--cases", "b1-", "--out", out.toString(),
                "--samples", "10", "--warmup-ms", "1");
        JsonNode anchors = Json.MAPPER.readTree(out.toFile());
        assertEquals("lacuna-sparse-conv-anchor/1", anchors.path("schema").asText());
        BenchReport report = new BenchReport(BenchReport.SCHEMA, "a", "b", "ok", null, null, null,
                List.of(new BenchReport.BenchmarkOutcome(SparseConvBenchmark.NAME, "ok", null, 1, results)));
        SparseConvAnchors.Merged merged = SparseConvAnchors.merge(report, anchors, 0, null);
        List<BenchReport.BenchmarkOutcome> outcomes = merged.report().benchmarks();
        assertEquals(List.of(SparseConvBenchmark.NAME, SparseConvAnchors.OUTCOME, SparseConvAnchors.PROBLEMS),
                outcomes.stream().map(BenchReport.BenchmarkOutcome::name).toList());
        List<BenchResult> rows = outcomes.get(1).results();
        String e2e = SparseConvBenchmark.endToEndCase(1);
        BenchResult torch = rows.stream().filter(r -> r.name().equals(SparseConvAnchors.ROW)
                && e2e.equals(r.params().get("case"))).findFirst().orElseThrow();
        BenchResult chosen = rows.stream().filter(r -> r.name().equals(SparseConvBenchmark.CHOSEN)
                && e2e.equals(r.params().get("case"))).findFirst().orElseThrow();
        assertEquals(torch.medianMs() / chosen.medianMs(), chosen.anchor().speedup(), 1e-9);
        assertEquals(network.usefulFlops() / 2, torch.flops(), "batch 1 does half of batch 2's work");
        // Batch 2 was left out of the dry run: its cases lack a PyTorch timing, a problem rather than a failure.
        assertEquals("partial", outcomes.get(2).status());
        assertTrue(outcomes.get(2).error().contains(SparseConvBenchmark.endToEndCase(2) + ": no PyTorch timing"));
        assertTrue(merged.table().contains(e2e), merged.table());
    }

    @Test
    void withoutTheSweepItSkipsAndSaysWhy() throws Exception {
        try (Backend backend = cpu()) {
            List<BenchResult> skipped = new SparseConvBenchmark(Optional::empty, "none", IN, TINY, List.of(1), null)
                    .run(new BenchContext(backend, QUICK, 1 << 20, Optional.empty()));
            assertEquals(1, skipped.size());
            assertEquals("skipped", skipped.getFirst().name());
            assertTrue(skipped.getFirst().params().get("skipped").toString().contains("KITTI sweep is not at"));
        }
        BenchReport report = new BenchReport(BenchReport.SCHEMA, "a", "b", "ok", null, null, null, List.of());
        SparseConvAnchors.Merged merged = SparseConvAnchors.merge(report, null, 0, "PyTorch is not installed");
        assertEquals("skipped", merged.report().benchmarks().getLast().status());
        assertEquals("PyTorch is not installed", merged.report().benchmarks().getLast().error());
    }

    private static List<String> python(String... args) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TwoFourGemmSweepTest.pythonAvailable(), "python3 is not installed");
        List<String> command = new ArrayList<>(List.of("python3", "-B", SCRIPT.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("LACUNA_SPARSE_CONV_BATCHES");
        builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Process process = builder.start();
        process.getOutputStream().close();
        String stdout = new String(process.getInputStream().readAllBytes());
        String stderr = new String(process.getErrorStream().readAllBytes());
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "python3 did not finish");
        assertEquals(0, process.exitValue(), stderr);
        return Stream.of(stdout.split("\n")).filter(s -> !s.isBlank()).filter(s -> !s.startsWith(" ")
                && !s.startsWith("sparse_conv_anchor:")).toList();
    }
}

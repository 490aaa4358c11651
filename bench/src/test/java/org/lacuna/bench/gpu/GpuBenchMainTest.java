package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.lacuna.bench.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class GpuBenchMainTest {
    private static final String[] QUICK = {"--samples", "3", "--warmup-ms", "0", "--max-ms-per-case", "50"};

    private static int run(Path out, String... extra) {
        String[] args = new String[QUICK.length + extra.length + 2];
        System.arraycopy(QUICK, 0, args, 0, QUICK.length);
        System.arraycopy(extra, 0, args, QUICK.length, extra.length);
        args[args.length - 2] = "--out";
        args[args.length - 1] = out.toString();
        return new CommandLine(new GpuBenchMain()).execute(args);
    }

    @Test
    void theMemoryBenchmarkIsRegistered() {
        assertTrue(GpuBenchMain.registeredBenchmarks(null).stream().anyMatch(b -> b.name().equals("memory")));
        assertEquals(List.of(), GpuBenchMain.registeredBenchmarks(java.util.regex.Pattern.compile("^nothing$")));
    }

    @Test
    void onTheCpuBackendTheBenchmarksSkipAndSaySo(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("bench.json");
        assertEquals(0, run(out, "--filter", "memory"));
        BenchReport report = Json.MAPPER.readValue(out.toFile(), BenchReport.class);
        if (report.device().computeCapability() == 0) {
            assertEquals("skipped", report.status());
            assertTrue(report.message().contains("not a GPU"), report.message());
            assertEquals(List.of(), report.benchmarks());
        }
    }

    @Test
    void onTheCpuBackendRequiringAGpuFails(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("bench.json");
        int exit = run(out, "--filter", "memory", "--require-gpu");
        BenchReport report = Json.MAPPER.readValue(out.toFile(), BenchReport.class);
        if (report.device().computeCapability() == 0) {
            assertEquals(2, exit);
            assertEquals("failed", report.status());
            assertTrue(report.message().contains("--require-gpu"), report.message());
        }
    }

    @Test
    void allowedOnTheCpuTheHarnessRunsEveryCaseAndWritesTheReport(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("nested/bench.json");
        assertEquals(0, run(out, "--filter", "memory", "--allow-cpu", "--peak-gbps", "100"));

        BenchReport report = Json.MAPPER.readValue(out.toFile(), BenchReport.class);
        assertEquals(BenchReport.SCHEMA, report.schema());
        assertEquals("ok", report.status());
        assertEquals(100.0, report.device().peakGBps());
        BenchReport.BenchmarkOutcome memory = report.benchmarks().getFirst();
        assertEquals("ok", memory.status());
        assertEquals(List.of("device-fill", "host-to-device", "device-to-host"),
                memory.results().stream().map(BenchResult::name).toList());
        for (BenchResult result : memory.results()) {
            assertTrue(result.medianMs() > 0 && result.achievedGBps() > 0, result.toString());
            assertTrue(result.samples() >= 3, result.toString());
            assertTrue(result.memoryFloorMs() > 0, result.toString());
        }
    }
}

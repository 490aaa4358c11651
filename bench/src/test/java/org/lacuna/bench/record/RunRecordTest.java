package org.lacuna.bench.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.bench.Json;
import org.lacuna.bench.gpu.BenchReport;
import org.lacuna.bench.gpu.BenchResult;
import org.lacuna.bench.measure.MeasurementPlan;
import picocli.CommandLine;

class RunRecordTest {
    /** As junit-platform-console-standalone 1.14 writes it (legacy XML reporter), trimmed. */
    private static final String JUPITER_REPORT = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuite name="JUnit Jupiter" tests="3" skipped="1" failures="1" errors="0" time="1.5">
            <properties><property name="java.version" value="25"/></properties>
            <testcase name="spmmMatchesCpu()" classname="org.lacuna.runtime.CudaSpmmTest" time="0.75">
            <system-out><![CDATA[unique-id: [engine:junit-jupiter]]]></system-out>
            </testcase>
            <testcase name="castRoundsToNearestEven()" classname="org.lacuna.runtime.CudaCastTest" time="0.25">
            <failure message="expected: &lt;1.0&gt; but was: &lt;2.0&gt;" type="org.opentest4j.AssertionFailedError"><![CDATA[org.opentest4j.AssertionFailedError: expected
            	at ...]]></failure>
            </testcase>
            <testcase name="needsTwoGpus()" classname="org.lacuna.runtime.MultiGpuTest" time="0.001">
            <skipped><![CDATA[Assumption failed: only one GPU
            second line]]></skipped>
            </testcase>
            </testsuite>
            """;

    private static final String JQWIK_REPORT = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuite name="jqwik" tests="1" skipped="0" failures="0" errors="1" time="0.2">
            <testcase name="anyShape" classname="org.lacuna.runtime.CudaReduceProperties" time="0.2">
            <error message="CudaException: illegal address" type="org.lacuna.runtime.error.CudaException"/>
            </testcase>
            </testsuite>
            """;

    @Test
    void readsEveryOutcomeFromTheReports(@TempDir Path dir) throws IOException {
        writeReports(dir);
        List<TestOutcome> cases = JUnitReports.read(dir).testCases();

        assertEquals(4, cases.size());
        Map<String, TestOutcome> byName = cases.stream()
                .collect(java.util.stream.Collectors.toMap(TestOutcome::name, c -> c));
        assertEquals("passed", byName.get("spmmMatchesCpu()").outcome());
        assertEquals(0.75, byName.get("spmmMatchesCpu()").seconds());
        assertEquals("failed", byName.get("castRoundsToNearestEven()").outcome());
        assertEquals("expected: <1.0> but was: <2.0>", byName.get("castRoundsToNearestEven()").message());
        assertEquals("skipped", byName.get("needsTwoGpus()").outcome());
        assertEquals("Assumption failed: only one GPU", byName.get("needsTwoGpus()").message());
        assertEquals("error", byName.get("anyShape").outcome());
        assertEquals("org.lacuna.runtime.CudaReduceProperties", byName.get("anyShape").className());
    }

    @Test
    void aMissingReportFolderReadsAsNoTests(@TempDir Path dir) throws IOException {
        assertEquals(List.of(), JUnitReports.read(dir.resolve("absent")).testCases());
    }

    @Test
    void mergedReportHoldsEverySuite(@TempDir Path dir) throws IOException {
        Path reports = Files.createDirectories(dir.resolve("junit"));
        writeReports(reports);
        Path merged = dir.resolve("junit.xml");
        JUnitReports.read(reports).writeMerged(merged);

        Path check = Files.createDirectories(dir.resolve("check"));
        Files.copy(merged, check.resolve("merged.xml"));
        assertEquals(4, JUnitReports.read(check).testCases().size());
        assertTrue(Files.readString(merged).contains("<testsuites>"));
    }

    @Test
    void writesTheRecordAndItsTable(@TempDir Path dir) throws IOException {
        Path reports = Files.createDirectories(dir.resolve("junit"));
        writeReports(reports);
        Path device = Files.writeString(dir.resolve("device.txt"), """
                gpu_name=NVIDIA H100 80GB HBM3
                gpu_driver=580.159.04
                gpu_memory=81559 MiB
                cuda_version=13.0
                """);
        Path build = Files.writeString(dir.resolve("BUILD_INFO"), "commit=0123abc\nbuilt=2026-11-23T01:00:00Z\ndirty=true\n");
        BenchResult fill = new BenchResult("device-fill", Map.of("bytes", 1 << 30), "device", 100, 1, 100, 10,
                0.4, 0.39, 0.395, 0.41, 0.5, 0.401, 0, 1L << 30, 0, 2684.4, 0.32, 0.8, null, null, null)
                .withAnchor("cuda-memset", 0.5);
        BenchReport bench = new BenchReport(BenchReport.SCHEMA, "2026-11-23T01:00:00Z", "2026-11-23T01:01:00Z", "ok",
                null, new BenchReport.DeviceSummary("cuda", "NVIDIA H100 80GB HBM3", 90, 132, 85L << 30, "13.0",
                3350.0, "data sheet: H100 SXM5, HBM3", "highest-ranked available backend"),
                new BenchReport.Settings(MeasurementPlan.defaults(), 256L << 20),
                List.of(new BenchReport.BenchmarkOutcome("memory", "ok", null, 2.5, List.of(fill)),
                        new BenchReport.BenchmarkOutcome("spmm", "failed", "java.lang.IllegalStateException: boom\n\tat x",
                                0.1, List.of())));
        Path benchJson = dir.resolve("bench.json");
        Json.MAPPER.writeValue(benchJson.toFile(), bench);
        Path out = dir.resolve("out");

        int exit = new CommandLine(new RunRecord()).execute("--junit-dir", reports.toString(),
                "--bench-json", benchJson.toString(), "--device-info", device.toString(),
                "--build-info", build.toString(), "--tests-exit", "1", "--bench-exit", "1",
                "--merged-junit", dir.resolve("junit.xml").toString(), "--out-dir", out.toString(), "--quiet");

        assertEquals(0, exit);
        List<Path> written;
        try (Stream<Path> files = Files.list(out)) {
            written = files.sorted().toList();
        }
        assertEquals(2, written.size());
        String baseName = written.get(0).getFileName().toString().replace(".json", "");
        assertTrue(baseName.matches("gpu-run-\\d{8}-\\d{4}-nvidia-h100-80gb-hbm3"), baseName);

        JsonNode record = Json.MAPPER.readTree(written.get(0).toFile());
        assertEquals(RunRecord.SCHEMA, record.get("schema").asText());
        assertEquals("580.159.04", record.get("device").get("gpu_driver").asText());
        assertEquals(2, record.get("tests").get("failed").asInt()); // one failure + one error
        assertEquals(1, record.get("tests").get("passed").asInt());
        assertEquals(1, record.get("tests").get("skipped").asInt());
        assertEquals(1.25, record.get("bench").get("benchmarks").get(0).get("results").get(0).get("anchor")
                .get("speedup").asDouble(), 1e-9);

        String table = Files.readString(written.get(1));
        assertTrue(table.contains("| driver | 580.159.04 |"), table);
        assertTrue(table.contains("Backend: cuda on NVIDIA H100 80GB HBM3 (highest-ranked available backend)."), table);
        assertTrue(table.contains("| commit | 0123abc + uncommitted changes |"), table);
        assertTrue(table.contains("## Tests tagged gpu: 1 passed, 2 failed, 1 skipped"), table);
        assertTrue(table.contains("| CudaCastTest.castRoundsToNearestEven() | **failed** |"), table);
        assertTrue(table.contains("| memory | device-fill | {bytes=1073741824} | 0.4 | 0.39 | 0.41 | 100 | 2684.4 |"), table);
        assertTrue(table.contains("| cuda-memset | 1.25x |"), table);
        assertTrue(table.contains("| spmm | **failed** | java.lang.IllegalStateException: boom |"), table);
        assertTrue(Files.isRegularFile(dir.resolve("junit.xml")));
    }

    @Test
    void withoutAGpuOrBenchReportTheRecordSaysSo(@TempDir Path dir) throws IOException {
        int exit = new CommandLine(new RunRecord()).execute("--junit-dir", dir.resolve("none").toString(),
                "--bench-json", dir.resolve("bench.json").toString(), "--out-dir", dir.toString(), "--quiet");
        assertEquals(0, exit);
        try (Stream<Path> files = Files.list(dir)) {
            Path md = files.filter(p -> p.toString().endsWith(".md")).findFirst().orElseThrow();
            assertTrue(md.getFileName().toString().endsWith("-no-gpu.md"));
            String table = Files.readString(md);
            assertTrue(table.contains("No test reported."), table);
            assertTrue(table.contains("no benchmark report at"), table);
        }
    }

    @Test
    void fileNamesUseOnlyCharactersTheDeviceToolReturns() {
        String name = RunRecord.fileBaseName(ZonedDateTime.of(2026, 11, 23, 1, 42, 0, 0, ZoneOffset.UTC),
                "NVIDIA H100 80GB HBM3 (MIG 1g.10gb)");
        assertEquals("gpu-run-20261123-0142-nvidia-h100-80gb-hbm3-mig-1g-10gb", name);
    }

    private static void writeReports(Path dir) throws IOException {
        Files.writeString(dir.resolve("TEST-junit-jupiter.xml"), JUPITER_REPORT);
        Files.writeString(dir.resolve("TEST-jqwik.xml"), JQWIK_REPORT);
    }
}

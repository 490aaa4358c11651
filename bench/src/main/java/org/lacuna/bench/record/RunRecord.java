package org.lacuna.bench.record;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lacuna.bench.Json;
import org.lacuna.bench.gpu.BenchReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Turns one GPU run's outputs — the JUnit XML reports, {@code bench.json}, the device facts and the bundle's
 * BUILD_INFO — into a run record: {@code gpu-run-<date>-<device>.json} with everything, and a Markdown twin for
 * people. Records are kept in {@code bench/results/} so that runs can be compared across commits.
 */
@Command(name = "lacuna-run-record", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Writes gpu-run-<date>-<device>.json and .md from a GPU run's reports.")
public final class RunRecord implements Callable<Integer> {
    public static final String SCHEMA = "lacuna-gpu-run/1";

    @Option(names = "--junit-dir", required = true, description = "Folder of the console launcher's XML reports.")
    Path junitDir;

    @Option(names = "--bench-json", description = "GpuBenchMain's report.")
    Path benchJson;

    @Option(names = "--device-info", description = "key=value facts about the device (run.sh writes them).")
    Path deviceInfo;

    @Option(names = "--build-info", description = "The bundle's BUILD_INFO (key=value).")
    Path buildInfo;

    @Option(names = "--tests-exit", defaultValue = "-1", description = "Exit status of the test run.")
    int testsExit;

    @Option(names = "--bench-exit", defaultValue = "-1", description = "Exit status of the benchmark run.")
    int benchExit;

    @Option(names = "--merged-junit", description = "Also write every XML report merged into this one file.")
    Path mergedJunit;

    @Option(names = "--out-dir", required = true, description = "Where the record's .json and .md go.")
    Path outDir;

    @Option(names = "--quiet", description = "Do not print the Markdown table.")
    boolean quiet;

    /**
     * @param device    facts about the machine (gpu_name, gpu_driver, cuda_version, ...), as run.sh found them
     * @param build     the bundle's commit and build date
     * @param exitCodes the test and benchmark steps' exit statuses (-1: not run)
     * @param bench     GpuBenchMain's report; null if it wrote none
     * @param benchProblem why {@code bench} is missing or unreadable
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Record(String schema, String recordedAt, Map<String, String> device, Map<String, String> build,
                         Map<String, Integer> exitCodes, TestSummary tests, BenchReport bench, String benchProblem) {
        public String deviceName() {
            return device.getOrDefault("gpu_name", "no-gpu");
        }
    }

    public record TestSummary(int total, int passed, int failed, int skipped, List<TestOutcome> cases) {
        static TestSummary of(List<TestOutcome> cases) {
            int failed = (int) cases.stream().filter(TestOutcome::failed).count();
            int skipped = (int) cases.stream().filter(TestOutcome::skipped).count();
            return new TestSummary(cases.size(), cases.size() - failed - skipped, failed, skipped, cases);
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new RunRecord()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        JUnitReports reports = JUnitReports.read(junitDir);
        if (mergedJunit != null) {
            reports.writeMerged(mergedJunit);
        }
        Record record = build(now, reports.testCases());

        Files.createDirectories(outDir);
        String baseName = fileBaseName(now, record.deviceName());
        Path json = outDir.resolve(baseName + ".json");
        Path markdown = outDir.resolve(baseName + ".md");
        Json.MAPPER.writeValue(json.toFile(), record);
        String table = RunRecordMarkdown.render(record);
        Files.writeString(markdown, table, StandardCharsets.UTF_8);

        if (!quiet) {
            System.out.println(table);
        }
        System.out.println("run record: " + json + " and " + markdown.getFileName());
        return 0;
    }

    private Record build(ZonedDateTime now, List<TestOutcome> cases) {
        BenchReport bench = null;
        String benchProblem = null;
        if (benchJson == null || !Files.isRegularFile(benchJson)) {
            benchProblem = "no benchmark report" + (benchJson == null ? "" : " at " + benchJson);
        } else {
            try {
                bench = Json.MAPPER.readValue(benchJson.toFile(), BenchReport.class);
            } catch (IOException e) {
                benchProblem = "unreadable benchmark report " + benchJson + ": " + e.getMessage();
            }
        }
        Map<String, Integer> exitCodes = new LinkedHashMap<>();
        exitCodes.put("tests", testsExit);
        exitCodes.put("bench", benchExit);
        return new Record(SCHEMA, now.format(DateTimeFormatter.ISO_INSTANT), readKeyValues(deviceInfo),
                readKeyValues(buildInfo), exitCodes, TestSummary.of(cases), bench, benchProblem);
    }

    /** {@code gpu-run-20261123-0142-nvidia-h100-80gb-hbm3}: sorts by date, and names only the device-tool allows. */
    static String fileBaseName(ZonedDateTime when, String deviceName) {
        String slug = deviceName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
        return "gpu-run-" + when.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmm")) + "-"
                + (slug.isEmpty() ? "unknown-device" : slug);
    }

    /** Reads key=value lines in file order; a missing file reads as no facts. */
    static Map<String, String> readKeyValues(Path file) {
        Map<String, String> values = new LinkedHashMap<>();
        if (file == null || !Files.isRegularFile(file)) {
            return values;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int equals = line.indexOf('=');
                if (!line.isBlank() && !line.startsWith("#") && equals > 0) {
                    values.put(line.substring(0, equals).strip(), line.substring(equals + 1).strip());
                }
            }
        } catch (IOException e) {
            values.put("error", "cannot read " + file + ": " + e.getMessage());
        }
        return values;
    }
}

package org.lacuna.bench.gpu;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.lacuna.bench.Json;
import org.lacuna.bench.measure.MeasurementOptions;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.Backends;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.error.LacunaException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * Runs every {@link GpuBenchmark} on the class path against the selected backend and writes one JSON report.
 * Exit status: 0 all ran (or skipped: no GPU), 1 a benchmark failed, 2 no backend opened (or, with
 * {@code --require-gpu}, only a CPU one).
 */
@Command(name = "lacuna-gpu-bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs the registered GPU benchmarks and writes their timings as JSON.")
public final class GpuBenchMain implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "bench.json", description = "JSON report to write (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--filter", description = "Run only the benchmarks whose name matches this regular expression.")
    Pattern filter;

    @Option(names = "--list", description = "List the registered benchmarks and exit.")
    boolean list;

    @CommandLine.Mixin
    MeasurementOptions measurement = new MeasurementOptions(MeasurementPlan.defaults());

    @Option(names = "--working-set-mib", defaultValue = "256",
            description = "Bytes the rotated copies of an input set span, MiB; keep well above the L2 (default: ${DEFAULT-VALUE}).")
    long workingSetMib;

    @Option(names = "--peak-gbps", description = "Peak DRAM bandwidth for the memory floors (default: the data sheet of known GPUs).")
    Double peakGbps;

    @Option(names = "--allow-cpu", description = "Run on a CPU backend too (to try the harness); by default a CPU backend skips.")
    boolean allowCpu;

    @Option(names = "--require-gpu",
            description = "Fail (exit 2) instead of skipping when the backend is not a GPU: on a machine that has one, a"
                    + " fallback to the CPU is a fault to report (run.sh passes this when nvidia-smi sees a GPU).")
    boolean requireGpu;

    public static void main(String[] args) {
        System.exit(new CommandLine(new GpuBenchMain()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        List<GpuBenchmark> benchmarks = registeredBenchmarks(filter);
        if (list) {
            benchmarks.forEach(b -> System.out.println(b.name()));
            return 0;
        }
        MeasurementPlan plan = measurement.over(MeasurementPlan.defaults());
        BenchReport.Settings settings = new BenchReport.Settings(plan, workingSetMib << 20);
        String startedAt = Instant.now().toString();

        Backend backend;
        String selectionReason;
        try {
            Backends.Selection selection = Backends.select();
            selectionReason = selection.reason();
            backend = selection.chosen().provider().open(0);
        } catch (LacunaException | LinkageError e) {
            // Still write a report: the run record must say why no benchmark ran.
            System.err.println("lacuna-gpu-bench: no backend opened: " + e);
            write(new BenchReport(BenchReport.SCHEMA, startedAt, Instant.now().toString(), "failed",
                    "no backend opened: " + e, null, settings, List.of()));
            return 2;
        }
        try (backend) {
            DeviceInfo device = backend.device();
            Optional<DevicePeaks.PeakBandwidth> peak = peakGbps != null
                    ? Optional.of(new DevicePeaks.PeakBandwidth(peakGbps, "--peak-gbps"))
                    : DevicePeaks.lookUp(device.name());
            BenchReport.DeviceSummary summary = new BenchReport.DeviceSummary(backend.name(), device.name(),
                    device.computeCapability(), device.multiprocessors(), device.totalMemoryBytes(),
                    DeviceInfo.versionString(device.driverVersion()),
                    peak.map(DevicePeaks.PeakBandwidth::gigabytesPerSecond).orElse(null),
                    peak.map(DevicePeaks.PeakBandwidth::source).orElse(null), selectionReason);
            System.out.printf("lacuna-gpu-bench: backend %s (%s) on %s (sm_%d, %d SMs, driver %s), %d benchmark(s)%n",
                    backend.name(), selectionReason, device.name(), device.computeCapability(),
                    device.multiprocessors(), summary.driverVersion(), benchmarks.size());

            if (device.computeCapability() == 0 && !allowCpu) {
                String message = "backend '" + backend.name() + "' is not a GPU (" + selectionReason + "): "
                        + (requireGpu ? "failed, since --require-gpu was given" : "GPU benchmarks skipped"
                        + " (--allow-cpu runs them on it anyway)");
                System.out.println("lacuna-gpu-bench: " + message);
                write(new BenchReport(BenchReport.SCHEMA, startedAt, Instant.now().toString(),
                        requireGpu ? "failed" : "skipped", message, summary, settings, List.of()));
                return requireGpu ? 2 : 0;
            }
            if (benchmarks.isEmpty()) {
                System.out.println("lacuna-gpu-bench: no benchmark registered" + (filter == null ? "" : " matches " + filter));
            }

            BenchContext context = new BenchContext(backend, plan, settings.workingSetTargetBytes(), peak);
            List<BenchReport.BenchmarkOutcome> outcomes = new ArrayList<>();
            for (GpuBenchmark benchmark : benchmarks) {
                outcomes.add(runOne(benchmark, context));
            }
            boolean anyFailed = outcomes.stream().anyMatch(o -> o.status().equals("failed"));
            write(new BenchReport(BenchReport.SCHEMA, startedAt, Instant.now().toString(),
                    anyFailed ? "failed" : "ok", anyFailed ? "a benchmark failed, see its error" : null,
                    summary, settings, outcomes));
            return anyFailed ? 1 : 0;
        }
    }

    private static BenchReport.BenchmarkOutcome runOne(GpuBenchmark benchmark, BenchContext context) {
        System.out.println("== " + benchmark.name());
        long start = System.nanoTime();
        try {
            List<BenchResult> results = benchmark.run(context);
            // An asynchronous fault of this benchmark's last launches must be charged to it, not the next one.
            context.backend().synchronize();
            results.forEach(r -> System.out.println("   " + describe(r)));
            return new BenchReport.BenchmarkOutcome(benchmark.name(), "ok", null, secondsSince(start), results);
        } catch (Exception | LinkageError | AssertionError e) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            System.out.println("   FAILED: " + e);
            System.err.print(trace);
            return new BenchReport.BenchmarkOutcome(benchmark.name(), "failed", trace.toString(),
                    secondsSince(start), List.of());
        }
    }

    static String describe(BenchResult r) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                "%-24s %s  median %.4f ms (min %.4f, p90 %.4f; %d x %d launches)  %.1f GB/s  %.2f TFLOP/s",
                r.name(), r.params(), r.medianMs(), r.minMs(), r.p90Ms(), r.samples(), r.launchesPerSample(),
                r.achievedGBps(), r.achievedTflops()));
        if (r.peakBandwidthFraction() != null) {
            line.append(String.format(Locale.ROOT, "  %.0f%% of peak", 100 * r.peakBandwidthFraction()));
        }
        if (r.anchor() != null) {
            line.append(String.format(Locale.ROOT, "  %.2fx vs %s", r.anchor().speedup(), r.anchor().name()));
        }
        return line.toString();
    }

    private static double secondsSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private void write(BenchReport report) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Json.MAPPER.writeValue(out.toFile(), report);
        System.out.println("lacuna-gpu-bench: wrote " + out);
    }

    static List<GpuBenchmark> registeredBenchmarks(Pattern filter) {
        List<GpuBenchmark> all = ServiceLoader.load(GpuBenchmark.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(b -> filter == null || filter.matcher(b.name()).find())
                .sorted(Comparator.comparing(GpuBenchmark::name))
                .toList();
        Set<String> seen = new HashSet<>();
        for (GpuBenchmark b : all) {
            if (!seen.add(b.name())) {
                throw new IllegalStateException("two GPU benchmarks are named '" + b.name() + "'");
            }
        }
        return all;
    }
}

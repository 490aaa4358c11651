package org.lacuna.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.bench.cpu.CpuBenchMain;
import org.lacuna.bench.gpu.GpuBenchMain;
import org.lacuna.bench.record.RunRecord;
import org.lacuna.bench.report.BenchCommand;
import picocli.CommandLine;

/**
 * The benchmark commands' lines: every option's names, default and arity, in help order, whether declared in the
 * command or in a mixin it shares ({@code CpuThreadsOption}, {@code MeasurementOptions}, {@code CpuSuiteOptions}), so
 * that an option lost, renamed or given another default in a clean-up fails here (scripts and the CI pass them).
 */
class CommandLinesTest {
    @Test
    void theCpuBenchmarkKeepsItsOptions() {
        assertEquals(List.of("--quick = false (0)", "--threads = 2 (1)", "--out-dir = bench/results (1)",
                "--name = null (1)", "--filter = null (1)", "--no-torch = false (0)", "--no-onnx = false (0)",
                "--python = null (1)", "--anchors-dir = null (1)", "--rounds = null (1)", "--samples = 50 (1)", "--warmup-ms = 4000.0 (1)",
                "--max-ms-per-case = 3000.0 (1)", "--min-samples = null (1)", "--note = [] (1)",
                "--anchor-timeout-s = 1800 (1)"), options(new CpuBenchMain()));
    }

    @Test
    void theGpuHarnessKeepsItsOptions() {
        assertEquals(List.of("--out = bench.json (1)", "--filter = null (1)", "--list = false (0)",
                "--samples = 100 (1)", "--warmup-ms = 200.0 (1)", "--max-ms-per-case = 3000.0 (1)",
                "--working-set-mib = 256 (1)", "--peak-gbps = null (1)", "--allow-cpu = false (0)",
                "--require-gpu = false (0)"), options(new GpuBenchMain()));
    }

    @Test
    void theRunRecordKeepsItsOptions() {
        assertEquals(List.of("--junit-dir = null (1) required", "--bench-json = null (1)", "--device-info = null (1)",
                "--build-info = null (1)", "--tests-exit = -1 (1)", "--bench-exit = -1 (1)",
                "--merged-junit = null (1)", "--out-dir = null (1) required", "--quiet = false (0)"),
                options(new RunRecord()));
    }

    @Test
    void lacunaBenchKeepsItsOptions() {
        assertEquals(List.of("--quick = false (0)", "--suites = [cpu, gpu, sparsity] (1)", "--out-dir = null (1)",
                "--name = null (1)", "--threads = 2 (1)", "--filter = null (1)", "--no-torch = false (0)",
                "--no-onnx = false (0)", "--corpus = /usr/share/common-licenses (1)", "--sentences = null (1)",
                "--passes = null (1)"), options(new BenchCommand()));
    }

    /** "names = default (arity)", and "required" where it is: each option but --help and --version, in help order. */
    static List<String> options(Object command) {
        return new CommandLine(command).getCommandSpec().options().stream()
                .filter(o -> !o.usageHelp() && !o.versionHelp())
                .map(o -> String.join(" ", o.names()) + " = " + o.defaultValueString() + " (" + o.arity() + ")"
                        + (o.required() ? " required" : ""))
                .toList();
    }
}

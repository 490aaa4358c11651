package org.lacuna.bench.record;

import java.util.Locale;
import java.util.Map;
import org.lacuna.bench.gpu.BenchReport;
import org.lacuna.bench.gpu.BenchResult;

/** The Markdown face of a {@link RunRecord.Record}: what a person reads in {@code bench/results/}. */
final class RunRecordMarkdown {
    private static final int MAX_MESSAGE = 160;

    private RunRecordMarkdown() {
    }

    static String render(RunRecord.Record record) {
        StringBuilder md = new StringBuilder();
        Map<String, String> device = record.device();
        Map<String, String> build = record.build();
        md.append("# GPU run ").append(record.recordedAt()).append(" on ").append(record.deviceName()).append("\n\n");
        md.append("| | |\n| --- | --- |\n");
        row(md, "device", device.getOrDefault("gpu_name", "no GPU found")
                + (device.containsKey("gpu_memory") ? " (" + device.get("gpu_memory") + ")" : ""));
        row(md, "driver", device.getOrDefault("gpu_driver", "n/a"));
        row(md, "CUDA", device.getOrDefault("cuda_version", "n/a")
                + (device.containsKey("nvcc_version") ? " (nvcc " + device.get("nvcc_version") + ")" : ""));
        String commit = build.getOrDefault("commit", "unknown");
        boolean dirty = "true".equals(build.get("dirty")) && !commit.equals("uncommitted");
        row(md, "commit", commit + (dirty ? " + uncommitted changes" : ""));
        row(md, "bundle built", build.getOrDefault("built", "unknown"));
        row(md, "run", record.recordedAt());
        row(md, "exit codes", "tests " + record.exitCodes().get("tests") + ", bench " + record.exitCodes().get("bench"));

        RunRecord.TestSummary tests = record.tests();
        md.append("\n## Tests tagged gpu: ").append(tests.passed()).append(" passed, ").append(tests.failed())
                .append(" failed, ").append(tests.skipped()).append(" skipped\n\n");
        if (tests.cases().isEmpty()) {
            md.append("No test reported.\n");
        } else {
            md.append("| test | outcome | time (s) | message |\n| --- | --- | ---: | --- |\n");
            for (TestOutcome test : tests.cases()) {
                md.append("| ").append(cell(shortClassName(test.className()) + "." + test.name())).append(" | ")
                        .append(test.failed() ? "**" + test.outcome() + "**" : test.outcome()).append(" | ")
                        .append(String.format(Locale.ROOT, "%.3f", test.seconds())).append(" | ")
                        .append(cell(test.message() == null ? "" : abbreviate(test.message()))).append(" |\n");
            }
        }

        md.append("\n## Benchmarks\n\n");
        BenchReport bench = record.bench();
        if (bench == null) {
            md.append(record.benchProblem()).append("\n");
            return md.toString();
        }
        md.append("Status: ").append(bench.status());
        if (bench.message() != null) {
            md.append(" — ").append(bench.message());
        }
        md.append("\n\n");
        if (bench.device() != null && bench.device().selectionReason() != null) {
            md.append("Backend: ").append(bench.device().backend()).append(" on ").append(bench.device().name())
                    .append(" (").append(bench.device().selectionReason()).append(").\n\n");
        }
        if (bench.device() != null && bench.device().peakGBps() != null) {
            md.append(String.format(Locale.ROOT, "Memory floors use %.0f GB/s (%s).%n%n", bench.device().peakGBps(),
                    bench.device().peakSource()));
        }
        if (bench.benchmarks() == null || bench.benchmarks().isEmpty()) {
            md.append("No benchmark ran.\n");
            return md.toString();
        }
        md.append("| benchmark | case | params | median ms | min ms | p90 ms | iterations | GB/s | TFLOP/s "
                + "| floor ms | % of peak | anchor | speed-up |\n");
        md.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |\n");
        for (BenchReport.BenchmarkOutcome outcome : bench.benchmarks()) {
            if (!outcome.status().equals("ok")) {
                String firstLine = outcome.error() == null ? "" : outcome.error().lines().findFirst().orElse("");
                md.append("| ").append(outcome.name()).append(" | **").append(outcome.status()).append("** | ")
                        .append(cell(firstLine)).append(" | | | | | | | | | | |\n");
                continue;
            }
            for (BenchResult r : outcome.results()) {
                md.append("| ").append(outcome.name()).append(" | ").append(cell(r.name())).append(" | ")
                        .append(cell(String.valueOf(r.params()))).append(" | ")
                        .append(number(r.medianMs())).append(" | ").append(number(r.minMs())).append(" | ")
                        .append(number(r.p90Ms())).append(" | ").append(r.iterations()).append(" | ")
                        .append(String.format(Locale.ROOT, "%.1f", r.achievedGBps())).append(" | ")
                        .append(String.format(Locale.ROOT, "%.3f", r.achievedTflops())).append(" | ")
                        .append(r.memoryFloorMs() == null ? "" : number(r.memoryFloorMs())).append(" | ")
                        .append(r.peakBandwidthFraction() == null ? ""
                                : String.format(Locale.ROOT, "%.0f%%", 100 * r.peakBandwidthFraction())).append(" | ")
                        .append(r.anchor() == null ? "" : cell(r.anchor().name())).append(" | ")
                        .append(r.anchor() == null ? "" : String.format(Locale.ROOT, "%.2fx", r.anchor().speedup()))
                        .append(" |\n");
            }
        }
        return md.toString();
    }

    private static void row(StringBuilder md, String key, String value) {
        md.append("| ").append(key).append(" | ").append(cell(value)).append(" |\n");
    }

    /** Four significant digits, whether the time is 0.004 ms or 400 ms. */
    private static String number(double millis) {
        return new java.math.BigDecimal(millis).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }

    /** Keeps the table readable; the JSON record and junit.xml keep the whole message. */
    private static String abbreviate(String message) {
        return message.length() <= MAX_MESSAGE ? message : message.substring(0, MAX_MESSAGE - 1) + "…";
    }

    private static String shortClassName(String className) {
        int dot = className.lastIndexOf('.');
        return dot < 0 ? className : className.substring(dot + 1);
    }

    private static String cell(String text) {
        return text.replace("|", "\\|").replace("\n", " ");
    }
}

package org.lacuna.bench.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;
import org.lacuna.bench.cpu.CpuRecord;
import org.lacuna.bench.gpu.BenchReport;
import org.lacuna.bench.gpu.BenchResult;

/**
 * One measured case as the report plots it, whichever suite measured it: Lacuna's time beside its anchor's (PyTorch,
 * ONNX Runtime, cuSPARSE, Lacuna's own dense path), the speed-up, and the fraction of the device's peak.
 *
 * @param suite          {@code cpu} or {@code gpu}
 * @param family         the op family or end-to-end run ({@code DENSE_LINEAR}, {@code ENCODER}, ...)
 * @param anchor         what the speed-up is against; null when the case has none
 * @param speedup        anchor time ÷ Lacuna time: above 1, Lacuna is faster; null when either did not run
 * @param fractionOfPeak of {@code peakKind}; null when unknown
 * @param peakKind       what the peak is: the measured fp32 FMA peak (CPU) or the DRAM bandwidth (GPU)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ReportRow(String suite, String id, String family, Double lacunaMs, String anchor, Double anchorMs,
                        Double speedup, Double fractionOfPeak, String peakKind) {
    static final String CPU_PEAK = "fp32 FMA peak";
    static final String GPU_PEAK = "DRAM bandwidth";

    /** The CPU run's cases. */
    public static List<ReportRow> fromCpu(CpuRecord record) {
        List<ReportRow> rows = new ArrayList<>();
        for (CpuRecord.CaseRow c : record.cases()) {
            Double lacunaMs = c.lacuna() != null && c.lacuna().measured() ? c.lacuna().medianMs() : null;
            boolean peerRan = c.peer() != null && c.peer().measured();
            rows.add(new ReportRow("cpu", c.id(), c.family().name(), lacunaMs,
                    c.peer() == null ? null : c.peer().name(), peerRan ? c.peer().medianMs() : null, c.speedup(),
                    c.fractionOfPeak(), CPU_PEAK));
        }
        return rows;
    }

    /** The GPU harness's results; anchored ones carry their speed-up. */
    public static List<ReportRow> fromGpu(BenchReport report) {
        List<ReportRow> rows = new ArrayList<>();
        if (report.benchmarks() == null) {
            return rows;
        }
        for (BenchReport.BenchmarkOutcome outcome : report.benchmarks()) {
            if (outcome.results() == null) {
                continue;
            }
            for (BenchResult r : outcome.results()) {
                rows.add(new ReportRow("gpu", outcome.name() + "/" + r.name() + params(r), outcome.name(),
                        r.medianMs(), r.anchor() == null ? null : r.anchor().name(),
                        r.anchor() == null ? null : r.anchor().anchorMedianMs(),
                        r.anchor() == null ? null : r.anchor().speedup(), r.peakBandwidthFraction(), GPU_PEAK));
            }
        }
        return rows;
    }

    private static String params(BenchResult r) {
        return r.params() == null || r.params().isEmpty() ? "" : r.params().toString().replace(" ", "");
    }
}

package org.lacuna.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lacuna.bench.cpu.CpuCase;
import org.lacuna.bench.cpu.CpuRecord;
import org.lacuna.bench.cpu.Timing;
import org.lacuna.bench.gpu.Anchor;
import org.lacuna.bench.gpu.BenchReport;
import org.lacuna.bench.gpu.BenchResult;

/** Both suites' records become report rows with the same speed-ups and fractions they hold. */
class ReportRowTest {
    @Test
    void cpuCasesKeepTheirSpeedUpPeerAndFraction() {
        Timing lacuna = timing("lacuna-dense", 2.0);
        Timing peer = timing("torch-mm", 1.5);
        CpuRecord.CaseRow ran = new CpuRecord.CaseRow("dense-a", CpuCase.Family.DENSE_LINEAR, Map.of(), 1_000_000,
                lacuna, peer, null, null, 0.5, 0.67, 0.75, 0.41, null);
        CpuRecord.CaseRow skipped = new CpuRecord.CaseRow("attn-b", CpuCase.Family.ATTENTION, Map.of(), 10, lacuna,
                Timing.failed("torch-explicit", "pytorch", "x", "skipped: no torch"), null, null, null, null, null,
                null, null);
        CpuRecord record = new CpuRecord(CpuRecord.SCHEMA, "t", "quick", null, Map.of(), Map.of(), Map.of(),
                List.of(ran, skipped), List.of(), List.of());
        List<ReportRow> rows = ReportRow.fromCpu(record);
        assertEquals(new ReportRow("cpu", "dense-a", "DENSE_LINEAR", 2.0, "torch-mm", 1.5, 0.75, 0.41,
                ReportRow.CPU_PEAK), rows.get(0));
        assertEquals("torch-explicit", rows.get(1).anchor());
        assertNull(rows.get(1).anchorMs(), "a peer that did not run has no time");
        assertNull(rows.get(1).speedup());
    }

    @Test
    void gpuResultsCarryTheirAnchorAndBandwidthFraction() {
        BenchResult result = new BenchResult("spmm", Map.of("m", 512), "device", 10, 1, 10, 3, 0.5, 0.4, 0.45,
                0.6, 0.7, 0.52, 1000, 2000, 1.0, 2.0, 0.2, 0.4, null, null, new Anchor("cusparse", 1.0, 2.0));
        BenchReport report = new BenchReport(BenchReport.SCHEMA, "s", "f", "ok", null, null, null,
                List.of(new BenchReport.BenchmarkOutcome("sparse-gemm", "ok", null, 1.0, List.of(result))));
        ReportRow row = ReportRow.fromGpu(report).get(0);
        assertEquals("sparse-gemm/spmm{m=512}", row.id());
        assertEquals(2.0, row.speedup());
        assertEquals(1.0, row.anchorMs());
        assertEquals(0.4, row.fractionOfPeak());
        assertEquals(ReportRow.GPU_PEAK, row.peakKind());
    }

    private static Timing timing(String name, double ms) {
        return new Timing(name, "lacuna", "x", ms, ms, ms, 5, 1, 1, null, null);
    }
}

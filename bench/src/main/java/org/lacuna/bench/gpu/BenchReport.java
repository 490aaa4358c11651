package org.lacuna.bench.gpu;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import org.lacuna.bench.measure.MeasurementPlan;

/**
 * The whole of {@code bench.json}: which device, with which settings, and each benchmark's outcome.
 *
 * @param status {@code ok}; {@code failed} if the backend did not open or any benchmark threw; {@code skipped} when
 *               the backend is not a GPU and {@code --allow-cpu} was not given
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BenchReport(String schema, String startedAt, String finishedAt, String status, String message,
                          DeviceSummary device, Settings settings, List<BenchmarkOutcome> benchmarks) {
    public static final String SCHEMA = "lacuna-gpu-bench/1";

    /**
     * @param driverVersion   e.g. "13.0"; "n/a" on the CPU
     * @param selectionReason why this backend serves, e.g. "fallback: cuda unavailable (...)"
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DeviceSummary(String backend, String name, int computeCapability, int multiprocessors,
                                long totalMemoryBytes, String driverVersion, Double peakGBps, String peakSource,
                                String selectionReason) {
    }

    public record Settings(MeasurementPlan plan, long workingSetTargetBytes) {
    }

    /** @param status {@code ok} or {@code failed}; {@code error} holds the exception when failed */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record BenchmarkOutcome(String name, String status, String error, double seconds,
                                   List<BenchResult> results) {
    }
}

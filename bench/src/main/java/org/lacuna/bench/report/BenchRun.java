package org.lacuna.bench.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * One {@code lacuna bench} run as recorded under {@code bench/results/}: every measured case in one shape
 * ({@link ReportRow}), the sparsity accuracy table, each suite's status, and each suite's full record as it wrote it.
 *
 * @param mode    {@code quick} or {@code full}
 * @param machine what ran it, in words (CPU, cores, threads, JVM, backend, peak)
 * @param suites  suite name → {@code ran}, or {@code skipped: why} / {@code failed: why}
 * @param records suite name → that suite's own record (the CPU run, the GPU harness's report)
 * @param plots   PNG file names, relative to the report
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BenchRun(String schema, String recordedAt, String mode, Map<String, String> machine,
                       Map<String, String> suites, List<ReportRow> rows, SparsityRecord sparsity,
                       Map<String, Object> records, List<String> plots, List<String> notes) {
    public static final String SCHEMA = "lacuna-bench-run/1";

    public BenchRun withPlots(List<String> files) {
        return new BenchRun(schema, recordedAt, mode, machine, suites, rows, sparsity, records, files, notes);
    }
}

package org.lacuna.bench.cpu;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import org.lacuna.bench.Json;

/**
 * A CPU benchmark run as kept under {@code bench/results/}: {@code cpu-run-<date>.json} with everything and a
 * Markdown twin ({@link CpuRecordMarkdown}) for people and diffs.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CpuRecord(String schema, String recordedAt, String suite, Machine machine, Map<String, String> build,
                        Map<String, Object> backend, Map<String, Object> anchors, List<CaseRow> cases,
                        List<CpuTargets.Result> targets, List<String> notes) {
    public static final String SCHEMA = "lacuna-cpu-run/1";

    /**
     * @param fmaPeakOneThreadGflops  fp32 FMA peak of one core (Vector API loop)
     * @param fmaPeakGflops           the same on the benchmark's threads: the peak every fraction is taken of
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Machine(String cpuModel, int logicalCores, int threads, String cpuFlags, String jvm,
                          Double fmaPeakOneThreadGflops, Double fmaPeakGflops, String fmaPeakMethod) {
    }

    /**
     * One case: Lacuna's timing, its peer's, and what they give.
     *
     * @param peer           what the target compares with (PyTorch, ONNX Runtime, or Lacuna's own dense path)
     * @param others         further peers measured on the same case (PyTorch's SDPA beside the explicit attention)
     * @param speedup        peer median ÷ Lacuna median: above 1, Lacuna is faster
     * @param fractionOfPeak Lacuna's GFLOP/s ÷ the FMA peak on the benchmark's threads
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record CaseRow(String id, CpuCase.Family family, Map<String, Object> params, long flops, Timing lacuna,
                          Timing peer, List<Timing> others, Double lacunaGflops, Double peerGflops, Double speedup,
                          Double fractionOfPeak, String note) {
        public static CaseRow of(CpuCase c, Timing lacuna, Timing peer, List<Timing> others, Double peakGflops,
                                 String note) {
            Double lacunaRate = lacuna == null ? null : lacuna.gflops(c.flops());
            Double peerRate = peer == null ? null : peer.gflops(c.flops());
            Double speedup = lacuna != null && lacuna.measured() && peer != null && peer.measured()
                    ? peer.medianMs() / lacuna.medianMs() : null;
            Double fraction = lacunaRate != null && peakGflops != null && peakGflops > 0 ? lacunaRate / peakGflops
                    : null;
            return new CaseRow(c.id(), c.family(), c.params(), c.flops(), lacuna, peer,
                    others == null || others.isEmpty() ? null : List.copyOf(others), lacunaRate, peerRate, speedup,
                    fraction, note);
        }
    }

    /** {@code cpu-run-20261206-0142}: sorts by date. */
    static String fileBaseName(ZonedDateTime when) {
        return "cpu-run-" + when.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmm"));
    }

    /** Writes {@code <base>.json} and {@code <base>.md} into {@code dir}; returns the JSON's path. */
    public Path write(Path dir, String baseName) throws IOException {
        Files.createDirectories(dir);
        Path json = dir.resolve(baseName + ".json");
        Json.MAPPER.writeValue(json.toFile(), this);
        Files.writeString(dir.resolve(baseName + ".md"), CpuRecordMarkdown.render(this), StandardCharsets.UTF_8);
        return json;
    }
}

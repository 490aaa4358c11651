package org.lacuna.bench.cpu;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.lacuna.bench.Json;
import org.lacuna.bench.measure.SampleStatistics;

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
     * @param rounds         where the two sides took turns in rounds ({@link AnchoredRounds}): each round's times
     *                       and ratio; the timings above are then over the rounds ({@link AnchoredRounds#overRounds})
     * @param speedup        peer ÷ Lacuna: the median of the rounds' ratios where there are rounds, else peer median ÷
     *                       Lacuna median; above 1, Lacuna is faster
     * @param fractionOfPeak Lacuna's GFLOP/s ÷ the FMA peak on the benchmark's threads
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record CaseRow(String id, CpuCase.Family family, Map<String, Object> params, long flops, Timing lacuna,
                          Timing peer, List<Timing> others, Rounds rounds, Double lacunaGflops, Double peerGflops,
                          Double speedup, Double fractionOfPeak, String note) {
        public static CaseRow of(CpuCase c, Timing lacuna, Timing peer, List<Timing> others, Rounds rounds,
                                 Double peakGflops, String note) {
            Double lacunaRate = lacuna == null ? null : lacuna.gflops(c.flops());
            Double peerRate = peer == null ? null : peer.gflops(c.flops());
            // Timed in rounds, the speed-up is theirs or none: two medians from different rounds would bring back
            // the drift the rounds are there to cancel.
            Double speedup = rounds != null ? rounds.medianRatio()
                    : lacuna != null && lacuna.measured() && peer != null && peer.measured()
                    ? peer.medianMs() / lacuna.medianMs() : null;
            Double fraction = lacunaRate != null && peakGflops != null && peakGflops > 0 ? lacunaRate / peakGflops
                    : null;
            return new CaseRow(c.id(), c.family(), c.params(), c.flops(), lacuna, peer,
                    others == null || others.isEmpty() ? null : List.copyOf(others), rounds, lacunaRate, peerRate,
                    speedup, fraction, note);
        }
    }

    /**
     * A case timed in rounds taking turns with its peer.
     *
     * @param lacunaMs    each round's Lacuna median (null where it did not run)
     * @param peerMs      each round's peer median (null where it did not run)
     * @param ratios      peer ÷ Lacuna of each round where both ran
     * @param medianRatio the median of {@code ratios}: the case's speed-up, what its target is judged on
     * @param minRatio    the lowest of {@code ratios}
     * @param maxRatio    the highest
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Rounds(int count, List<Double> lacunaMs, List<Double> peerMs, List<Double> ratios,
                         Double medianRatio, Double minRatio, Double maxRatio) {
        /** The rounds of two sides' timings, round by round in the same order. */
        static Rounds of(List<Timing> lacuna, List<Timing> peer) {
            if (lacuna.size() != peer.size()) {
                throw new IllegalArgumentException(lacuna.size() + " Lacuna rounds against " + peer.size());
            }
            List<Double> lacunaMs = new ArrayList<>();
            List<Double> peerMs = new ArrayList<>();
            List<Double> ratios = new ArrayList<>();
            for (int r = 0; r < lacuna.size(); r++) {
                Timing l = lacuna.get(r);
                Timing p = peer.get(r);
                lacunaMs.add(l.measured() ? l.medianMs() : null);
                peerMs.add(p.measured() ? p.medianMs() : null);
                if (l.measured() && p.measured()) {
                    ratios.add(p.medianMs() / l.medianMs());
                }
            }
            SampleStatistics stats = ratios.isEmpty() ? null
                    : SampleStatistics.of(ratios.stream().mapToDouble(Double::doubleValue).toArray());
            return new Rounds(lacuna.size(), Collections.unmodifiableList(lacunaMs),
                    Collections.unmodifiableList(peerMs), List.copyOf(ratios), stats == null ? null : stats.median(),
                    stats == null ? null : stats.min(), stats == null ? null : stats.max());
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

package org.lacuna.bench.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The targets for the CPU backend, and where a run stands against each. A target is read off one case row:
 * Lacuna's speed-up over its peer (peer time ÷ Lacuna time), Lacuna's share of the peer's time, Lacuna's fraction
 * of the measured FMA peak, or Lacuna's time itself.
 */
public final class CpuTargets {
    private CpuTargets() {
    }

    /** How a target reads a case row. */
    public enum Metric {
        /** Peer median ÷ Lacuna median: above 1 Lacuna is faster (or, for sentences/s, serves more). */
        SPEEDUP_OVER_PEER("x speed-up over the peer", true),
        /** Lacuna median ÷ peer median: a kept-token attention against dense, an overhead against the layer. */
        SHARE_OF_PEER("x of the peer's time", false),
        /** Lacuna GFLOP/s ÷ the measured FMA peak on the benchmark's threads. */
        FRACTION_OF_PEAK("of the FMA peak", true),
        /** Lacuna's median, µs. */
        LACUNA_MICROSECONDS("µs", false);

        final String unit;
        final boolean atLeast;

        Metric(String unit, boolean atLeast) {
            this.unit = unit;
            this.atLeast = atLeast;
        }
    }

    public enum Status { MET, NOT_MET, NOT_MEASURED }

    /**
     * @param target    the wording
     * @param value     the row's value of the metric; null when not measured
     * @param shortfall threshold ÷ value (value ÷ threshold for "at most" metrics): above 1, how many times better
     *                  Lacuna must get; at or below 1, met with 1/shortfall headroom
     */
    public record Result(String target, String caseId, Metric metric, double threshold, Double value, Status status,
                         Double shortfall, String summary) {
    }

    /** The targets for the rows of a run (by each row's family), in the rows' order. */
    public static List<Result> evaluate(List<CpuRecord.CaseRow> rows, Double peakGflops) {
        List<Result> results = new ArrayList<>();
        for (CpuRecord.CaseRow row : rows) {
            switch (row.family()) {
                case DENSE_LINEAR -> {
                    results.add(check("dense Linear fp32 >= 0.9x PyTorch + OpenBLAS throughput", row,
                            Metric.SPEEDUP_OVER_PEER, 0.9, peakGflops));
                    if (((Number) row.params().get("tokens")).intValue() >= 512) {
                        results.add(check("dense Linear fp32 >= 60% of the measured FMA peak (large shapes)", row,
                                Metric.FRACTION_OF_PEAK, 0.6, peakGflops));
                    }
                }
                case TWO_FOUR_LINEAR -> results.add(check("2:4 Linear >= 1.3x the dense path (>= 512 tokens, FFN shapes)",
                        row, Metric.SPEEDUP_OVER_PEER, 1.3, peakGflops));
                case CSR_LINEAR -> results.add(check("CSR Linear at <= 10% density >= 3x dense", row,
                        Metric.SPEEDUP_OVER_PEER, 3.0, peakGflops));
                case ATTENTION -> results.add(check("attention >= 1.0x PyTorch's softmax(QK^T)V", row,
                        Metric.SPEEDUP_OVER_PEER, 1.0, peakGflops));
                case ATTENTION_KEPT -> results.add(check("attention at keep 0.5 <= 0.3x Lacuna's dense time", row,
                        Metric.SHARE_OF_PEER, 0.3, peakGflops));
                case DROPPING_OVERHEAD -> results.add(check("token-selection overhead <= 5% of the layer's attention",
                        row, Metric.SHARE_OF_PEER, 0.05, peakGflops));
                case ENCODER -> results.add(check("MiniLM-shaped encoder >= 0.8x ONNX Runtime's sentences/s", row,
                        Metric.SPEEDUP_OVER_PEER, 0.8, peakGflops));
                case MINKUNET -> results.add(check("MinkUNet (KITTI, 5 cm, maps cached) >= 1.5x PyTorch CPU"
                        + " gather-GEMM-scatter", row, Metric.SPEEDUP_OVER_PEER, 1.5, peakGflops));
                case TINY_OP -> results.add(check("tiny op (Linear 1x64x64) host overhead <= 5 µs", row,
                        Metric.LACUNA_MICROSECONDS, 5.0, peakGflops));
            }
        }
        return results;
    }

    /** The value of {@code metric} on {@code row}, or null when a side is missing. */
    static Double value(CpuRecord.CaseRow row, Metric metric, Double peakGflops) {
        Timing lacuna = row.lacuna();
        Timing peer = row.peer();
        boolean both = lacuna != null && lacuna.measured() && peer != null && peer.measured();
        return switch (metric) {
            // The row's own (CaseRow.of): where the sides took turns in rounds, the median of the rounds' ratios.
            case SPEEDUP_OVER_PEER -> both ? row.speedup() : null;
            case SHARE_OF_PEER -> both ? lacuna.medianMs() / peer.medianMs() : null;
            case FRACTION_OF_PEAK -> {
                Double rate = lacuna == null ? null : lacuna.gflops(row.flops());
                yield rate == null || peakGflops == null || peakGflops <= 0 ? null : rate / peakGflops;
            }
            case LACUNA_MICROSECONDS -> lacuna != null && lacuna.measured() ? lacuna.medianMs() * 1e3 : null;
        };
    }

    static Result check(String target, CpuRecord.CaseRow row, Metric metric, double threshold, Double peakGflops) {
        Double value = value(row, metric, peakGflops);
        if (value == null || !(value > 0) || !Double.isFinite(value)) {
            String why = row.lacuna() == null || !row.lacuna().measured()
                    ? "Lacuna: " + reason(row.lacuna())
                    : metric == Metric.FRACTION_OF_PEAK ? "no FMA peak measured" : "peer: " + reason(row.peer());
            return new Result(target, row.id(), metric, threshold, null, Status.NOT_MEASURED, null,
                    "not measured (" + why + ")");
        }
        double shortfall = metric.atLeast ? threshold / value : value / threshold;
        boolean met = shortfall <= 1;
        String shown = metric == Metric.FRACTION_OF_PEAK
                ? String.format(Locale.ROOT, "%.1f%% %s (target %s %.0f%%)", 100 * value, metric.unit,
                        metric.atLeast ? ">=" : "<=", 100 * threshold)
                : String.format(Locale.ROOT, "%.3g %s (target %s %.3g %s)", value, metric.unit,
                        metric.atLeast ? ">=" : "<=", threshold, metric.unit);
        if (metric != Metric.FRACTION_OF_PEAK && metric != Metric.LACUNA_MICROSECONDS) {
            shown = String.format(Locale.ROOT, "%.3gx (target %s %.3gx; %s%s)", value, metric.atLeast ? ">=" : "<=",
                    threshold, metric.unit.substring(2), metric == Metric.SPEEDUP_OVER_PEER ? rounds(row) : "");
        }
        String summary = met
                ? String.format(Locale.ROOT, "met: %s, %.2fx headroom", shown, 1 / shortfall)
                : String.format(Locale.ROOT, "not met: %s, needs %.2fx %s", shown, shortfall,
                        metric == Metric.FRACTION_OF_PEAK || metric == Metric.SPEEDUP_OVER_PEER ? "faster" : "less time");
        return new Result(target, row.id(), metric, threshold, value, met ? Status.MET : Status.NOT_MET, shortfall,
                summary);
    }

    /** "; median of 5 rounds, 0.95-1.04x" where the row was timed in rounds with two or more ratios. */
    static String rounds(CpuRecord.CaseRow row) {
        CpuRecord.Rounds r = row.rounds();
        return r == null || r.ratios().size() < 2 ? "" : String.format(Locale.ROOT, ", median of %d rounds, %.3f-%.3fx",
                r.ratios().size(), r.minRatio(), r.maxRatio());
    }

    private static String reason(Timing t) {
        return t == null ? "no timing" : t.error() != null ? t.error() : "no timing";
    }
}

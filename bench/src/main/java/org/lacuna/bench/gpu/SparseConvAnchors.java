package org.lacuna.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Folds PyTorch's gather-GEMM-scatter timings ({@code bench/anchors/sparse_conv_anchor.py}'s JSON, on the maps and
 * weights {@link SparseConvBenchmark} exported) into a copy of a GpuBenchMain report, as {@link AttentionAnchors}
 * does: appends the outcome {@code sparse-conv-anchors} with, per case, {@code pytorch-gather-gemm-scatter} and
 * Lacuna's rows of that case anchored on it ({@code anchor.speedup} = PyTorch median / Lacuna median; the target for
 * the end-to-end {@code chosen} row is 2 or more), plus {@code sparse-conv-anchors-problems} when a side is missing.
 * Prints the comparison as a table with the sorted+split redundancy against its 1.5 target. Exit status 0 when the
 * merged report was written, 2 when the benchmark report could not be read.
 */
@Command(name = "lacuna-sparse-conv-anchors", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Merges sparse_conv_anchor.py's JSON into a GpuBenchMain report for the run record.")
public final class SparseConvAnchors implements Callable<Integer> {
    static final String OUTCOME = "sparse-conv-anchors";
    static final String PROBLEMS = "sparse-conv-anchors-problems";
    static final String PYTORCH = "torch-gather-gemm-scatter";
    static final String ROW = "pytorch-gather-gemm-scatter";

    /** Every timed convolution of a case is anchored on PyTorch's gather-GEMM-scatter of that case. */
    private static final AnchorMerge.PerCaseAnchor ANCHOR = new AnchorMerge.PerCaseAnchor(OUTCOME, PROBLEMS, PYTORCH,
            "PyTorch", ROW, Map::values,
            (params, measured, anchors) -> AnchorMerge.pytorchKernelRow(ROW, params, measured, anchors,
                    "relativeError"),
            SparseConvAnchors::row);

    @Mixin
    AnchorOptions options = new AnchorOptions();

    public static void main(String[] args) {
        System.exit(new CommandLine(new SparseConvAnchors()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        return options.merge(OUTCOME, SparseConvAnchors::merge);
    }

    record Merged(BenchReport report, String table) implements AnchorMerge.Result {
    }

    static Merged merge(BenchReport report, JsonNode anchors, int anchorExit, String whyMissing) {
        List<BenchReport.BenchmarkOutcome> outcomes = AnchorMerge.outcomes(report);
        Map<String, Map<String, BenchResult>> lacuna = AnchorMerge.lacunaResults(outcomes, SparseConvBenchmark.NAME,
                SparseConvAnchors::timedConvolution);
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "targets: end to end (chosen) >= %.1fx "
                + "PyTorch; sorted+split redundancy <= %.2f%n", SparseConvBenchmark.TARGET_SPEEDUP_OVER_PYTORCH,
                SparseConvBenchmark.TARGET_MAX_REDUNDANCY)).append(String.format(Locale.ROOT,
                "%-40s %9s %9s %9s %9s %8s %7s%n", "case (ms)", "torch", "gather", "implicit", "chosen", "speedup",
                "r.split"));
        BenchReport merged = AnchorMerge.mergePerCase(ANCHOR, report, outcomes, lacuna, anchors, anchorExit, whyMissing,
                table);
        return new Merged(merged, table.toString());
    }

    /** Lacuna's timed convolutions, the rows compared with PyTorch (map rows left out). */
    private static boolean timedConvolution(BenchResult r) {
        return r.name().equals(SparseConvBenchmark.GATHER) || r.name().equals(SparseConvBenchmark.IMPLICIT)
                || r.name().equals(SparseConvBenchmark.CHOSEN);
    }

    /** Medians of PyTorch and each Lacuna row, PyTorch / best Lacuna (chosen where there is one), redundancy. */
    private static String row(String id, Map<String, BenchResult> ours, BenchResult torch) {
        BenchResult gather = ours.get(SparseConvBenchmark.GATHER);
        BenchResult implicit = ours.get(SparseConvBenchmark.IMPLICIT);
        BenchResult chosen = ours.get(SparseConvBenchmark.CHOSEN);
        BenchResult best = chosen != null ? chosen : gather == null ? implicit
                : implicit == null || gather.medianMs() <= implicit.medianMs() ? gather : implicit;
        BenchResult withStatistics = gather != null ? gather : best;
        Object split = withStatistics == null ? null : withStatistics.params().get(
                chosen != null ? "redundancySortedSplitFlopWeighted" : "redundancySortedSplit");
        return String.format(Locale.ROOT, "%-40s %9s %9s %9s %9s %8s %7s%n", id, ms(torch), ms(gather), ms(implicit),
                ms(chosen), best == null || torch == null ? "-"
                        : String.format(Locale.ROOT, "%.2fx", torch.medianMs() / best.medianMs()),
                split instanceof Number n ? String.format(Locale.ROOT, "%.2f", n.doubleValue()) : "-");
    }

    private static String ms(BenchResult r) {
        return r == null ? "-" : String.format(Locale.ROOT, "%.4f", r.medianMs());
    }
}

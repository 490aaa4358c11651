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
 * Folds PyTorch's timings of the attention cases ({@code bench/anchors/attention_anchor.py}'s JSON) into a copy of a
 * GpuBenchMain report, as {@link TwoFourGemmAnchors} does for the 2:4 GEMM: appends the outcome
 * {@code attention-anchors} with, per case, {@code pytorch-sdpa-flash} (PyTorch's scaled_dot_product_attention on its
 * flash backend, same problem, same GPU) and Lacuna's {@code dense} anchored on it ({@code anchor.speedup} = PyTorch
 * median / Lacuna median; the target is 0.8 or more), plus {@code attention-anchors-problems} when a side is missing.
 * Prints the comparison, with the token-dropping ratios, as a table. Exit status 0 when the merged report was
 * written, 2 when the benchmark report could not be read.
 */
@Command(name = "lacuna-attention-anchors", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Merges attention_anchor.py's JSON into a GpuBenchMain report for the run record.")
public final class AttentionAnchors implements Callable<Integer> {
    static final String OUTCOME = "attention-anchors";
    static final String PROBLEMS = "attention-anchors-problems";
    static final String PYTORCH = "sdpa-flash";
    /** Lacuna's dense attention should reach this share of PyTorch's flash throughput. */
    static final double TARGET_SHARE = 0.8;

    /** Lacuna's dense attention is anchored on PyTorch's flash measurement of its case. */
    private static final AnchorMerge.PerCaseAnchor ANCHOR = new AnchorMerge.PerCaseAnchor(OUTCOME, PROBLEMS, PYTORCH,
            "PyTorch " + PYTORCH, "pytorch-" + PYTORCH,
            ours -> ours.get("dense") == null ? List.of() : List.of(ours.get("dense")),
            (params, measured, anchors) -> AnchorMerge.pytorchKernelRow("pytorch-" + PYTORCH, params, measured,
                    anchors), AttentionAnchors::row);

    @Mixin
    AnchorOptions options = new AnchorOptions();

    public static void main(String[] args) {
        System.exit(new CommandLine(new AttentionAnchors()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        return options.merge(OUTCOME, AttentionAnchors::merge);
    }

    record Merged(BenchReport report, String table) implements AnchorMerge.Result {
    }

    static Merged merge(BenchReport report, JsonNode anchors, int anchorExit, String whyMissing) {
        List<BenchReport.BenchmarkOutcome> outcomes = AnchorMerge.outcomes(report);
        Map<String, Map<String, BenchResult>> lacuna = AnchorMerge.lacunaResults(outcomes, AttentionBenchmark.NAME,
                r -> true);
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "targets: dense >= %.2fx PyTorch flash; "
                + "kept-R time <= 1.25·R² of dense (0.613, 0.313, 0.113); overhead (at 0.5) <= 0.05 of dense%n",
                TARGET_SHARE)).append(String.format(Locale.ROOT, "%-22s %9s %9s %7s %9s %9s %9s %9s%n",
                "case (TFLOP/s)", "lacuna", "torch", "ratio", "kept 0.7", "kept 0.5", "kept 0.3", "overhead"));
        BenchReport merged = AnchorMerge.mergePerCase(ANCHOR, report, outcomes, lacuna, anchors, anchorExit, whyMissing,
                table);
        return new Merged(merged, table.toString());
    }

    /** TFLOP/s of both dense rows, Lacuna/PyTorch throughput, kept/dense time per ratio, overhead/dense at 0.5. */
    private static String row(String id, Map<String, BenchResult> ours, BenchResult torch) {
        BenchResult dense = ours.get("dense");
        return String.format(Locale.ROOT, "%-22s %9s %9s %7s %9s %9s %9s %9s%n", id, AnchorMerge.rate(dense),
                AnchorMerge.rate(torch),
                dense == null || torch == null ? "-" : String.format(Locale.ROOT, "%.2fx", torch.medianMs() / dense.medianMs()),
                share(ours.get("kept-0.7"), dense), share(ours.get("kept-0.5"), dense), share(ours.get("kept-0.3"), dense),
                share(ours.get("overhead-0.5"), dense));
    }

    private static String share(BenchResult r, BenchResult dense) {
        return r == null || dense == null ? "-" : String.format(Locale.ROOT, "%.3f", r.medianMs() / dense.medianMs());
    }
}

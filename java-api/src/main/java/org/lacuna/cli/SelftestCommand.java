package org.lacuna.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.io.PointClouds;
import org.lacuna.runtime.pointcloud.PointCloud;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Checks the serving backend against the double-precision reference backend ({@code cpu-reference}) for every op
 * family: elementwise, GEMM (dense, 2:4, CSR), attention with token selection, sparse convolution and voxelisation,
 * on fresh random data of ragged shapes, printing each comparison's error and its bound. On a machine without a GPU
 * the serving backend is the fp32 CPU one, whose kernels are not the reference's, so the check means something there
 * too.
 */
@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = {"Run every op family on the serving backend and compare it with the double-precision "
                + "reference (cpu-reference): elementwise, GEMM (dense/2:4/CSR), attention with token selection, "
                + "sparse convolution, voxelisation.",
                "Each line: the op, the serving backend's time, the max error relative to the output's largest "
                        + "magnitude, and the bound it must stay within."},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:every op within its bound", "1:usage error",
                "2:bad input (--scan)", "3:runtime failure", "4:an op disagrees with the reference"})
final class SelftestCommand implements Callable<Integer> {
    /** Keeps one run's matrices within a few hundred MB whatever is asked. */
    static final long MAX_ELEMENTS = 1L << 24;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--rows", defaultValue = "2048", description = "Rows of the elementwise test matrix, and tokens of "
            + "the GEMM (at most 256). Default ${DEFAULT-VALUE}.")
    int rows;

    @Option(names = "--cols", defaultValue = "1023", description = "Columns of the elementwise test matrix. Default "
            + "${DEFAULT-VALUE}.")
    int cols;

    @Option(names = "--seed", description = "Random seed (default: fresh).")
    Long seed;

    @Option(names = "--scan", paramLabel = "FILE", description = "A point cloud for the voxelisation check (default: a"
            + " synthetic scan of 60,000 points).")
    Path scan;

    @Override
    public Integer call() {
        if (rows < 1 || cols < 1 || (long) rows * cols > MAX_ELEMENTS) {
            throw new CommandLine.ParameterException(spec.commandLine(), String.format(Locale.ROOT, "--rows and --cols "
                    + "must be at least 1 and their product at most %,d (got --rows %d --cols %d)", MAX_ELEMENTS, rows,
                    cols));
        }
        PrintWriter out = spec.commandLine().getOut();
        long actualSeed = seed != null ? seed : System.nanoTime();
        SplittableRandom random = new SplittableRandom(actualSeed);
        PointCloud cloud = scan != null ? PointClouds.read(scan) : VoxelizeChecks.syntheticScan(random, 60_000);
        String cloudName = scan != null ? scan.getFileName().toString() : "synthetic scan";
        List<CheckResult> results = new ArrayList<>();
        try (Session serving = Lacuna.open(); Session reference = Lacuna.open("cpu-reference", 0)) {
            out.printf("backend: %s on %s (%s)%n", serving.backendName(), serving.device().name(),
                    serving.backendReason());
            out.printf("reference: %s (double precision); seed %d%n", reference.backendName(), actualSeed);
            if (serving.backendName().equals("cpu")) {
                out.println("note: the CPU backend's fp32 kernels against the double-precision reference; the GPU "
                        + "kernels are not exercised on this machine");
            }
            out.flush();
            section(out, ElementwiseChecks.FAMILY, ElementwiseChecks.run(serving, reference, random, rows, cols),
                    results);
            section(out, GemmChecks.FAMILY, GemmChecks.run(serving, reference, random, rows), results);
            section(out, AttentionChecks.FAMILY, AttentionChecks.run(serving, reference, random), results);
            section(out, SparseConvChecks.FAMILY, SparseConvChecks.run(serving, reference, random), results);
            section(out, VoxelizeChecks.FAMILY, VoxelizeChecks.run(serving, cloud, cloudName), results);
        }
        long failed = results.stream().filter(r -> !r.ok()).count();
        long skipped = results.stream().filter(r -> !r.ran()).count();
        String skippedNote = skipped == 0 ? "" : ", " + skipped + " unavailable on this backend";
        if (failed == 0) {
            out.printf("selftest: %d checks in 5 op families, every one within its bound of the double-precision "
                    + "reference%s%n", results.size() - skipped, skippedNote);
        } else {
            out.printf("selftest: %d of %d checks FAILED against the double-precision reference%s%n", failed,
                    results.size() - skipped, skippedNote);
        }
        out.flush();
        return failed == 0 ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
    }

    private static void section(PrintWriter out, String family, List<CheckResult> checks, List<CheckResult> all) {
        out.println(family + ":");
        checks.forEach(check -> out.println(check.describe()));
        out.flush();
        all.addAll(checks);
    }
}

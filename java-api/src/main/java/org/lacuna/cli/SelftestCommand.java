package org.lacuna.cli;

import java.io.PrintWriter;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.layers.Linear;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.gemm.LinearKernel;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * The main job of this build: opens the serving backend (the CPU one, and says why, where there is no GPU), runs
 * every shipped op on random data and checks each result against the CPU reference.
 */
@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = "Run every op on the serving backend and check it against the CPU reference.")
final class SelftestCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--rows", defaultValue = "2048", description = "Rows of the test matrix (default ${DEFAULT-VALUE}).")
    int rows;

    @Option(names = "--cols", defaultValue = "1023", description = "Columns of the test matrix (default ${DEFAULT-VALUE}).")
    int cols;

    @Option(names = "--seed", description = "Random seed (default: fresh).")
    Long seed;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        long actualSeed = seed != null ? seed : System.nanoTime();
        SplittableRandom random = new SplittableRandom(actualSeed);
        float[] x = new float[rows * cols];
        float[] bias = new float[cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble() * 8 - 4);
        }
        for (int i = 0; i < cols; i++) {
            bias[i] = (float) (random.nextDouble() * 2 - 1);
        }
        int failures = 0;
        try (Session session = Lacuna.open(); Session reference = Lacuna.open("cpu-reference", 0)) {
            out.printf("backend: %s on %s (%s)%n", session.backendName(), session.device().name(), session.backendReason());
            if (session.backendName().equals("cpu")) {
                out.println("note: running on the CPU backend (fp32 kernels) against the double-precision reference; GPU kernels are not exercised on this machine");
            }
            out.printf("input: [%d, %d] seed %d%n", rows, cols, actualSeed);
            for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                for (Activation activation : Activation.values()) {
                    failures += check(out, "biasActivation " + activation + " " + dtype, dtype,
                            session, reference, x, bias, (s, xs, bs) -> s.biasActivation(xs, bs, activation, dtype));
                }
                failures += check(out, "cast F32->" + dtype, DType.F32, session, reference, x, bias,
                        (s, xs, bs) -> s.cast(xs, dtype));
                for (RowReduction reduction : RowReduction.values()) {
                    failures += check(out, "rowReduce " + reduction + " " + dtype, dtype, session, reference, x, bias,
                            (s, xs, bs) -> s.rowReduce(xs, reduction));
                }
            }
        }
        failures += checkLinear(out, random);
        out.println(failures == 0 ? "selftest: all ops match the CPU reference" : "selftest: " + failures + " op(s) FAILED");
        return failures == 0 ? 0 : 1;
    }

    /** A 2:4-pruned linear layer through every kernel the serving backend offers, against the CPU's dense path. */
    private int checkLinear(PrintWriter out, SplittableRandom random) {
        int tokens = Math.min(rows, 256);
        int in = 256;
        int outFeatures = 384;
        float[] w = new float[outFeatures * in];
        float[] x = new float[tokens * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextDouble() * 2 - 1);
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        w = TwoFourPruning.prune(w, outFeatures, in);
        float[] want;
        try (Session reference = Lacuna.open("cpu-reference", 0); Tensor xs = reference.fromFloats(x, DType.F16, tokens, in)) {
            Linear layer = Linear.create(reference, w, outFeatures, in, null,
                    Linear.Options.of(DType.F16).withOutputType(DType.F32).forcing(LinearKernel.DENSE));
            want = layer.forward(xs).toFloatArray();
        }
        int failures = 0;
        try (Session session = Lacuna.open(); Tensor xs = session.fromFloats(x, DType.F16, tokens, in)) {
            for (LinearKernel kernel : LinearKernel.values()) {
                Linear layer = Linear.create(session, w, outFeatures, in, null,
                        Linear.Options.of(DType.F16).withOutputType(DType.F32).forcing(kernel));
                float[] got;
                double millis;
                try (DeviceTimer timer = session.newTimer()) {
                    layer.forward(xs).close(); // warm-up: compiles the kernel once
                    timer.start();
                    Tensor result = layer.forward(xs);
                    millis = timer.stopMillis();
                    got = result.toFloatArray();
                    result.close();
                } catch (org.lacuna.runtime.error.LacunaException e) {
                    out.printf("  %-28s unavailable here: %s%n", "linear " + kernel, e.getMessage().lines().findFirst().orElse(""));
                    continue;
                } finally {
                    layer.close();
                }
                double maxError = 0;
                for (int i = 0; i < want.length; i++) {
                    maxError = Math.max(maxError, Math.abs(got[i] - want[i]));
                }
                boolean ok = maxError <= 1e-3 * in;
                out.printf("  %-28s %8.3f ms  max abs err %.2e  %s%n", "linear " + kernel + " [" + tokens + "x" + in
                        + "]x[" + outFeatures + "]", millis, maxError, ok ? "ok" : "FAILED");
                failures += ok ? 0 : 1;
            }
        }
        return failures;
    }

    @FunctionalInterface
    private interface Op {
        Tensor apply(Session session, Tensor x, Tensor bias);
    }

    private int check(PrintWriter out, String name, DType inType, Session session, Session reference,
                      float[] x, float[] bias, Op op) {
        float[] got;
        double millis;
        try (Tensor xs = session.fromFloats(x, inType, rows, cols); Tensor bs = session.fromFloats(bias, DType.F32, cols);
             DeviceTimer timer = session.newTimer()) {
            op.apply(session, xs, bs).close(); // warm-up: compiles the kernel once
            timer.start();
            Tensor result = op.apply(session, xs, bs);
            millis = timer.stopMillis();
            got = result.toFloatArray();
            result.close();
        }
        float[] want;
        try (Tensor xs = reference.fromFloats(x, inType, rows, cols); Tensor bs = reference.fromFloats(bias, DType.F32, cols);
             Tensor result = op.apply(reference, xs, bs)) {
            want = result.toFloatArray();
        }
        double maxRelative = 0;
        boolean finite = true;
        for (int i = 0; i < want.length; i++) {
            finite &= Float.isFinite(got[i]) == Float.isFinite(want[i]);
            maxRelative = Math.max(maxRelative, Math.abs(got[i] - want[i]) / Math.max(1e-3, Math.abs(want[i])));
        }
        boolean ok = finite && maxRelative <= 1e-2;
        out.printf("  %-28s %8.3f ms  max rel err %.2e  %s%n", name, millis, maxRelative, ok ? "ok" : "FAILED");
        return ok ? 0 : 1;
    }
}

package org.lacuna.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.layers.Linear;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.gemm.LinearKernel;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.ops.Activation;

/**
 * Selftest family: a linear layer (bias and GELU fused) through every kernel the serving backend has (dense, 2:4,
 * CSR) on a 2:4-pruned weight, and the dense F32 path, each against the reference's dense layer.
 */
final class GemmChecks {
    static final String FAMILY = "GEMM";

    private GemmChecks() {
    }

    static List<CheckResult> run(Session serving, Session reference, SplittableRandom random, int rows) {
        int tokens = Math.min(rows, 256);
        int in = 256;
        int out = 384;
        float[] w = TwoFourPruning.prune(uniform(random, out * in), out, in);
        float[] x = uniform(random, tokens * in);
        float[] bias = uniform(random, out);
        List<CheckResult> results = new ArrayList<>();
        // The sums run in F32 on both kinds of backend bar the reference (double): allow for a sum of `in` terms.
        double tolerance = CheckResult.tolerance(DType.F32, in / 8);
        for (DType dtype : new DType[] {DType.F16, DType.F32}) {
            Linear.Options options = Linear.Options.of(dtype).withOutputType(DType.F32)
                    .withActivation(Activation.GELU);
            float[] want = forward(reference, w, out, in, bias, x, tokens, options.forcing(LinearKernel.DENSE), null);
            for (LinearKernel kernel : LinearKernel.values()) {
                if (dtype == DType.F32 && kernel != LinearKernel.DENSE) {
                    continue; // the sparse kernels take 16-bit operands
                }
                String name = "linear " + kernel + " " + dtype + " [" + tokens + "x" + in + "]x[" + out + "] +GELU";
                try {
                    double[] millis = new double[1];
                    float[] got = forward(serving, w, out, in, bias, x, tokens, options.forcing(kernel), millis);
                    results.add(new CheckResult(FAMILY, name, CheckResult.normalisedMaxError(got, want), tolerance,
                            millis[0], ""));
                } catch (LacunaException e) {
                    results.add(CheckResult.unavailable(FAMILY, name, e.getMessage().lines().findFirst().orElse("")));
                }
            }
        }
        return results;
    }

    private static float[] forward(Session session, float[] w, int out, int in, float[] bias, float[] x, int tokens,
                                   Linear.Options options, double[] millis) {
        try (Linear layer = Linear.create(session, w, out, in, bias, options);
             Tensor xs = session.fromFloats(x, options.dtype(), tokens, in);
             DeviceTimer timer = session.newTimer()) {
            layer.forward(xs).close(); // warm-up: compiles or tunes the kernel once
            timer.start();
            try (Tensor result = layer.forward(xs)) {
                if (millis != null) {
                    millis[0] = timer.stopMillis();
                }
                return result.toFloatArray();
            }
        }
    }

    static float[] uniform(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}

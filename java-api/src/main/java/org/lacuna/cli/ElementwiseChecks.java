package org.lacuna.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;

/** Selftest family: bias + activation, casts and row reductions in F32, F16 and BF16 on a [rows, cols] matrix. */
final class ElementwiseChecks {
    static final String FAMILY = "elementwise";

    private ElementwiseChecks() {
    }

    @FunctionalInterface
    private interface Op {
        Tensor apply(Session session, Tensor x, Tensor bias);
    }

    static List<CheckResult> run(Session serving, Session reference, SplittableRandom random, int rows, int cols) {
        float[] x = new float[rows * cols];
        float[] bias = new float[cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble() * 8 - 4);
        }
        for (int i = 0; i < cols; i++) {
            bias[i] = (float) (random.nextDouble() * 2 - 1);
        }
        String shape = " [" + rows + "x" + cols + "]";
        List<CheckResult> results = new ArrayList<>();
        for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            for (Activation activation : Activation.values()) {
                results.add(check("biasActivation " + activation + " " + dtype + shape, dtype,
                        CheckResult.tolerance(dtype, 2), serving, reference, x, bias, rows, cols,
                        (s, xs, bs) -> s.biasActivation(xs, bs, activation, dtype)));
            }
            results.add(check("cast F32->" + dtype + shape, DType.F32, CheckResult.tolerance(dtype, 1), serving,
                    reference, x, bias, rows, cols, (s, xs, bs) -> s.cast(xs, dtype)));
            for (RowReduction reduction : RowReduction.values()) {
                // The inputs are the same rounded values on both sides; the sums accumulate in F32 here.
                results.add(check("rowReduce " + reduction + " " + dtype + shape, dtype,
                        CheckResult.tolerance(DType.F32, Math.max(1, cols / 16)), serving, reference, x, bias, rows,
                        cols, (s, xs, bs) -> s.rowReduce(xs, reduction)));
            }
        }
        return results;
    }

    private static CheckResult check(String name, DType inType, double tolerance, Session serving, Session reference,
                                     float[] x, float[] bias, int rows, int cols, Op op) {
        float[] got;
        double millis;
        try (Tensor xs = serving.fromFloats(x, inType, rows, cols); Tensor bs = serving.fromFloats(bias, DType.F32, cols);
             DeviceTimer timer = serving.newTimer()) {
            op.apply(serving, xs, bs).close(); // warm-up: compiles the kernel once
            timer.start();
            try (Tensor result = op.apply(serving, xs, bs)) {
                millis = timer.stopMillis();
                got = result.toFloatArray();
            }
        }
        float[] want;
        try (Tensor xs = reference.fromFloats(x, inType, rows, cols);
             Tensor bs = reference.fromFloats(bias, DType.F32, cols);
             Tensor result = op.apply(reference, xs, bs)) {
            want = result.toFloatArray();
        }
        return new CheckResult(FAMILY, name, CheckResult.normalisedMaxError(got, want), tolerance, millis, "");
    }
}

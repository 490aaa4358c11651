package org.lacuna.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.lacuna.api.Session;
import org.lacuna.api.layers.SparseConv3d;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.Dataflow;

/**
 * Selftest family: sparse convolutions on a random sparse tensor (a surface-like layer of voxels and scattered
 * ones): submanifold 3x3x3, strided 2x2x2 and the transposed 2x2x2 back to the input's grid, each through both
 * dataflows, in F32 and F16, against the reference's result on the same coordinates.
 */
final class SparseConvChecks {
    static final String FAMILY = "sparse convolution";
    private static final int IN = 16;
    private static final int OUT = 24;

    private SparseConvChecks() {
    }

    static List<CheckResult> run(Session serving, Session reference, SplittableRandom random) {
        int[] coordinates = coordinates(random, 3000);
        int n = coordinates.length / 4;
        float[] features = GemmChecks.uniform(random, n * IN);
        float[] submanifold = GemmChecks.uniform(random, 27 * IN * OUT);
        float[] strided = GemmChecks.uniform(random, 8 * IN * IN);
        float[] transposed = GemmChecks.uniform(random, 8 * IN * OUT);
        float[] bias = GemmChecks.uniform(random, OUT);
        List<CheckResult> results = new ArrayList<>();
        for (DType dtype : new DType[] {DType.F32, DType.F16}) {
            for (Dataflow dataflow : Dataflow.values()) {
                String suffix = " " + dtype + " " + dataflow.name().toLowerCase(java.util.Locale.ROOT)
                        .replace('_', '-') + " [" + n + " voxels]";
                float[][] want = convolve(reference, coordinates, features, dtype, dataflow, submanifold, strided,
                        transposed, bias, null);
                double[] millis = new double[3];
                float[][] got = convolve(serving, coordinates, features, dtype, dataflow, submanifold, strided,
                        transposed, bias, millis);
                // F32 sums of 27 x 16 products; F16 outputs round once more than the reference's.
                double tolerance = dtype == DType.F32 ? CheckResult.tolerance(DType.F32, 27 * IN / 8)
                        : CheckResult.tolerance(DType.F16, 2);
                String[] names = {"submanifold k3 " + IN + "->" + OUT, "strided k2 s2 " + IN + "->" + IN,
                        "transposed k2 s2 " + IN + "->" + OUT};
                for (int i = 0; i < 3; i++) {
                    results.add(new CheckResult(FAMILY, names[i] + suffix, CheckResult.normalisedMaxError(got[i],
                            want[i]), tolerance, millis[i], ""));
                }
            }
        }
        return results;
    }

    /** The three convolutions' features, in the order of their (host-built, identical) output coordinates. */
    private static float[][] convolve(Session session, int[] coordinates, float[] features, DType dtype,
                                      Dataflow dataflow, float[] submanifoldWeights, float[] stridedWeights,
                                      float[] transposedWeights, float[] bias, double[] millis) {
        SparseConv3d.Options options = SparseConv3d.Options.of(dtype).forcing(dataflow);
        try (SparseTensor x = SparseTensor.of(session, coordinates, features, IN, dtype);
             SparseConv3d submanifold = SparseConv3d.create(session, ConvGeometry.submanifold(3), IN, OUT,
                     submanifoldWeights, bias, options);
             SparseConv3d down = SparseConv3d.create(session, ConvGeometry.strided(2, 2), IN, IN, stridedWeights,
                     null, options);
             SparseConv3d up = SparseConv3d.create(session, ConvGeometry.transposed(2, 2), IN, OUT,
                     transposedWeights, null, options)) {
            float[][] out = new float[3][];
            out[0] = timed(session, () -> submanifold.forward(x), millis, 0);
            try (SparseTensor coarse = down.forward(x)) {
                out[1] = timed(session, () -> down.forward(x), millis, 1);
                out[2] = timed(session, () -> up.forward(coarse), millis, 2);
            }
            return out;
        }
    }

    private static float[] timed(Session session, java.util.function.Supplier<SparseTensor> op, double[] millis,
                                 int slot) {
        try (DeviceTimer timer = session.newTimer()) {
            op.get().close(); // warm-up: builds the kernel map and compiles the kernel once
            timer.start();
            try (SparseTensor result = op.get()) {
                if (millis != null) {
                    millis[slot] = timer.stopMillis();
                }
                return result.features().toFloatArray();
            }
        }
    }

    /** Distinct (batch 0, x, y, z): a bumpy ground surface of voxels in a 40 x 40 area plus scattered ones. */
    private static int[] coordinates(SplittableRandom random, int count) {
        Set<List<Integer>> seen = new LinkedHashSet<>();
        while (seen.size() < count) {
            int x = random.nextInt(40) - 20;
            int y = random.nextInt(40) - 20;
            int z = random.nextInt(5) == 0 ? random.nextInt(12) : Math.floorMod(x * x + y, 3);
            seen.add(List.of(x, y, z));
        }
        int[] out = new int[4 * count];
        int i = 0;
        for (List<Integer> c : seen) {
            out[i++] = 0;
            out[i++] = c.get(0);
            out[i++] = c.get(1);
            out[i++] = c.get(2);
        }
        return Arrays.copyOf(out, i);
    }
}

package org.lacuna.runtime.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.gemm.CsrMatrix;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.gemm.LinearKernel;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.gemm.TwoFourWeights;
import org.lacuna.runtime.testing.TestData;

/**
 * What every backend's elementwise and normalisation ops must compute, checked against formulas evaluated here in double precision on fresh
 * random inputs of many shapes (ragged ones included). Outputs are poisoned with NaN bytes before each run, so an
 * element the backend forgot to write fails the check. Subclasses supply the backend.
 */
public abstract class ElementwiseConformance extends BackendConformance {
    protected static final List<Shape> SHAPES = List.of(Shape.of(1, 1), Shape.of(3, 5), Shape.of(7, 33),
            Shape.of(37, 129), Shape.of(2, 3, 65), Shape.of(1, 4099), Shape.of(513, 256));
    private static final List<DType> FLOATS = List.of(DType.F32, DType.F16, DType.BF16);

    @Test
    void biasActivationMatchesTheFormula() {
        SplittableRandom random = TestData.random("biasActivation");
        for (Activation activation : Activation.values()) {
            for (DType in : FLOATS) {
                for (DType out : FLOATS) {
                    for (Shape shape : SHAPES) {
                        checkBiasActivation(random, shape, in, out, activation, random.nextBoolean());
                    }
                }
            }
        }
    }

    private void checkBiasActivation(SplittableRandom random, Shape shape, DType in, DType out, Activation activation,
                                     boolean withBias) {
        int cols = (int) shape.columns();
        float[] x = TestData.uniform(random, (int) shape.elementCount(), 4f, in);
        float[] bias = TestData.uniform(random, cols, 1f, DType.F32);
        DeviceArray xs = HostData.upload(backend, in, shape, x);
        DeviceArray bs = HostData.upload(backend, DType.F32, Shape.of(cols), bias);
        DeviceArray ys = poisoned(out, shape);
        try {
            backend.ops().elementwise().biasActivation(xs, withBias ? bs : null, activation, ys);
            float[] y = HostData.downloadFloats(backend, ys);
            for (int i = 0; i < x.length; i++) {
                double expected = activation.apply((double) x[i] + (withBias ? bias[i % cols] : 0.0));
                // fp32 erff is within a few ulp; the output rounding adds at most one ulp of the output type.
                double tolerance = TestData.ulp(out, expected) + 8 * Math.ulp((float) expected) + 1e-6;
                assertFalse(Float.isNaN(y[i]), () -> "element not written");
                assertEquals(expected, y[i], tolerance, activation + " " + in + "->" + out + " " + shape + " at " + i);
            }
        } finally {
            xs.buffer().close();
            bs.buffer().close();
            ys.buffer().close();
        }
    }

    @Test
    void batchNormScalesAndShiftsEachChannel() {
        SplittableRandom random = TestData.random("batchNorm");
        for (DType in : FLOATS) {
            for (Shape shape : SHAPES) {
                DType out = random.nextBoolean() ? in : DType.F32;
                int cols = (int) shape.columns();
                float[] x = TestData.uniform(random, (int) shape.elementCount(), 4f, in);
                float[] scale = TestData.uniform(random, cols, 2f, DType.F32);
                float[] shift = TestData.uniform(random, cols, 1f, DType.F32);
                DeviceArray xs = HostData.upload(backend, in, shape, x);
                DeviceArray ss = HostData.upload(backend, DType.F32, Shape.of(cols), scale);
                DeviceArray ts = HostData.upload(backend, DType.F32, Shape.of(cols), shift);
                DeviceArray ys = poisoned(out, shape);
                try {
                    backend.ops().elementwise().batchNorm(xs, ss, ts, ys);
                    float[] y = HostData.downloadFloats(backend, ys);
                    for (int i = 0; i < x.length; i++) {
                        double want = (double) x[i] * scale[i % cols] + shift[i % cols];
                        assertEquals(want, y[i], TestData.ulp(out, want) + 1e-6 * (1 + Math.abs(want)),
                                in + "->" + out + " " + shape + " at " + i);
                    }
                } finally {
                    xs.buffer().close();
                    ss.buffer().close();
                    ts.buffer().close();
                    ys.buffer().close();
                }
            }
        }
    }

    @Test
    void concatColumnsCopiesBothInputsBitForBit() {
        SplittableRandom random = TestData.random("concatColumns");
        for (DType dtype : FLOATS) {
            for (int[] size : new int[][] {{1, 1, 1}, {5, 3, 7}, {129, 32, 64}, {1000, 1, 33}}) {
                int rows = size[0];
                int ca = size[1];
                int cb = size[2];
                float[] a = TestData.uniform(random, rows * ca, 10f, dtype);
                float[] b = TestData.uniform(random, rows * cb, 10f, dtype);
                DeviceArray as = HostData.upload(backend, dtype, Shape.of(rows, ca), a);
                DeviceArray bs = HostData.upload(backend, dtype, Shape.of(rows, cb), b);
                DeviceArray ys = poisoned(dtype, Shape.of(rows, ca + cb));
                try {
                    backend.ops().elementwise().concatColumns(as, bs, ys);
                    float[] y = HostData.downloadFloats(backend, ys);
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < ca + cb; c++) {
                            float want = c < ca ? a[r * ca + c] : b[r * cb + c - ca];
                            assertEquals(want, y[r * (ca + cb) + c], 0f, dtype + " row " + r + " col " + c);
                        }
                    }
                    assertEquals(ErrorCode.SHAPE_MISMATCH, assertThrows(InvalidInputException.class,
                            () -> backend.ops().elementwise().concatColumns(as, bs, as)).code());
                } finally {
                    as.buffer().close();
                    bs.buffer().close();
                    ys.buffer().close();
                }
            }
        }
    }

    @Test
    void castRoundsToNearestEven() {
        SplittableRandom random = TestData.random("cast");
        for (DType in : FLOATS) {
            for (DType out : FLOATS) {
                for (Shape shape : SHAPES) {
                    float[] x = TestData.uniform(random, (int) shape.elementCount(), 100f, in);
                    DeviceArray xs = HostData.upload(backend, in, shape, x);
                    DeviceArray ys = poisoned(out, shape);
                    try {
                        backend.ops().elementwise().cast(xs, ys);
                        float[] y = HostData.downloadFloats(backend, ys);
                        for (int i = 0; i < x.length; i++) {
                            assertEquals(HalfFloats.roundTo(out, x[i]), y[i], 0f, in + "->" + out + " " + shape + " at " + i);
                        }
                    } finally {
                        xs.buffer().close();
                        ys.buffer().close();
                    }
                }
            }
        }
    }

    @Test
    void rowReduceMatchesDoublePrecision() {
        SplittableRandom random = TestData.random("rowReduce");
        for (RowReduction reduction : RowReduction.values()) {
            for (DType in : FLOATS) {
                for (Shape shape : SHAPES) {
                    float[] x = TestData.uniform(random, (int) shape.elementCount(), 2f, in);
                    int rows = (int) shape.rows();
                    int cols = (int) shape.columns();
                    DeviceArray xs = HostData.upload(backend, in, shape, x);
                    DeviceArray outs = poisoned(DType.F32, Shape.of(rows));
                    try {
                        backend.ops().elementwise().rowReduce(xs, reduction, outs);
                        float[] out = HostData.downloadFloats(backend, outs);
                        assertRowReductions(x, rows, cols, reduction, out, in + " " + shape);
                    } finally {
                        xs.buffer().close();
                        outs.buffer().close();
                    }
                }
            }
        }
    }

    /** (tokens, out, in): ragged in every dimension, through several K tiles and M tiles of the GPU kernel. */

    /**
     * Checks {@code out[r]} against the row's reduction in double, within about (2 + log2(cols)) · 6.7 units of
     * fp32 rounding of Σ|x| (Σx² for L2): what a row split into several partial chains loses in practice (the CPU's
     * vector lanes, 16 with AVX-512 and 8 with AVX2, or 16 in its plain form; a chain's error grows like the square
     * root of its length). One fp32 chain over thousands of columns can lose more (a 4099-column L2 norm lost 1.1e-5
     * of itself), which is why no backend sums a row in one chain.
     */
    public static void assertRowReductions(float[] x, int rows, int cols, RowReduction reduction, float[] out,
                                           String what) {
        for (int r = 0; r < rows; r++) {
            double acc = reduction == RowReduction.MAX ? Double.NEGATIVE_INFINITY : 0;
            double magnitude = 0;
            for (int c = 0; c < cols; c++) {
                double v = x[r * cols + c];
                magnitude += reduction == RowReduction.L2 ? v * v : Math.abs(v);
                acc = switch (reduction) {
                    case SUM -> acc + v;
                    case MAX -> Math.max(acc, v);
                    case L2 -> acc + v * v;
                };
            }
            double expected = reduction == RowReduction.L2 ? Math.sqrt(acc) : acc;
            double scale = reduction == RowReduction.L2 ? Math.sqrt(magnitude) : magnitude;
            double tolerance = 4e-7 * (2 + Math.log(cols + 1) / Math.log(2)) * scale + 1e-6;
            assertEquals(expected, out[r], tolerance, reduction + " " + what + " row " + r);
        }
    }

    @Test
    void layerNormAndResidualAddMatchTheFormulas() {
        SplittableRandom random = TestData.random("layerNorm");
        for (DType in : List.of(DType.F32, DType.F16, DType.BF16)) {
            for (int cols : new int[] {1, 7, 256, 1000, 3001}) {
                int rows = 1 + random.nextInt(9);
                DType out = random.nextBoolean() ? in : DType.F32;
                List<DeviceArray> arrays = new ArrayList<>();
                try {
                    float[] x = TestData.uniform(random, rows * cols, 3f, in);
                    for (int i = 0; i < x.length; i++) {
                        x[i] = HalfFloats.roundTo(in, x[i] + 2f); // an offset mean, as activations have
                    }
                    float[] gamma = TestData.uniform(random, cols, 1f, DType.F32);
                    float[] beta = TestData.uniform(random, cols, 1f, DType.F32);
                    boolean withBeta = random.nextBoolean();
                    Shape shape = Shape.of(rows, cols);
                    DeviceArray xs = track(arrays, HostData.upload(backend, in, shape, x));
                    DeviceArray gammas = track(arrays, HostData.upload(backend, DType.F32, Shape.of(cols), gamma));
                    DeviceArray betas = track(arrays, HostData.upload(backend, DType.F32, Shape.of(cols), beta));
                    DeviceArray y = track(arrays, poisoned(out, shape));
                    backend.ops().elementwise().layerNorm(xs, gammas, withBeta ? betas : null, 1e-5, y);
                    float[] got = HostData.downloadFloats(backend, y);
                    for (int r = 0; r < rows; r++) {
                        double[] row = new double[cols];
                        for (int c = 0; c < cols; c++) {
                            row[c] = x[r * cols + c];
                        }
                        RowMoments moments = RowMoments.of(row);
                        for (int c = 0; c < cols; c++) {
                            double want = moments.normalised(row[c]) * gamma[c] + (withBeta ? beta[c] : 0);
                            assertEquals(want, got[r * cols + c], 2 * TestData.ulp(out, want) + 2e-5 * (1 + Math.abs(want)),
                                    in + "->" + out + " cols=" + cols + " row " + r + " col " + c);
                        }
                    }

                    float[] b = TestData.uniform(random, rows * cols, 3f, in);
                    DeviceArray bs = track(arrays, HostData.upload(backend, in, shape, b));
                    backend.ops().elementwise().add(xs, bs, xs); // in place, as a residual stream is updated
                    float[] sum = HostData.downloadFloats(backend, xs);
                    for (int i = 0; i < sum.length; i++) {
                        float want = HalfFloats.roundTo(in, x[i] + b[i]);
                        assertEquals(want, sum[i], 0f, in + " add at " + i);
                    }
                } finally {
                    arrays.forEach(array -> array.buffer().close());
                }
            }
        }
    }

    /** Where the fused residual layer norm writes: a fresh array, or in place over either input. */
    private enum ResidualTarget { FRESH, OVER_X, OVER_RESIDUAL }

    @Test
    void residualLayerNormMatchesTheFormula() {
        SplittableRandom random = TestData.random("residualLayerNorm");
        for (DType dtype : FLOATS) {
            for (int cols : new int[] {1, 7, 33, 384, 1000, 3001}) {
                for (ResidualTarget target : ResidualTarget.values()) {
                    checkResidualLayerNorm(random, dtype, 1 + random.nextInt(70), cols, target, random.nextBoolean());
                }
            }
        }
    }

    private void checkResidualLayerNorm(SplittableRandom random, DType dtype, int rows, int cols, ResidualTarget target,
                                        boolean withBeta) {
        List<DeviceArray> arrays = new ArrayList<>();
        try {
            ResidualNormCase in = residualNormCase(random, dtype, rows, cols, arrays);
            DeviceArray y = switch (target) {
                case FRESH -> track(arrays, poisoned(dtype, in.shape()));
                case OVER_X -> in.xs();
                case OVER_RESIDUAL -> in.rs();
            };
            backend.ops().elementwise().residualLayerNorm(in.xs(), in.rs(), in.gammas(), withBeta ? in.betas() : null,
                    1e-5, y);
            float[] got = HostData.downloadFloats(backend, y);
            String what = dtype + " " + rows + "x" + cols + " into " + target;
            for (int r = 0; r < rows; r++) {
                double[] sum = in.rowSum(r);
                RowMoments moments = RowMoments.of(sum);
                for (int c = 0; c < cols; c++) {
                    double want = moments.normalised(sum[c]) * in.gamma()[c] + (withBeta ? in.beta()[c] : 0);
                    // A backend that composes add and layer norm rounds the sum to the storage type first.
                    double roundedSum = TestData.ulp(dtype, sum[c]) * moments.rstd() * Math.abs(in.gamma()[c]);
                    assertEquals(want, got[r * cols + c], roundedSum + 2 * TestData.ulp(dtype, want)
                            + 2e-5 * (1 + Math.abs(want)), what + " row " + r + " col " + c);
                }
            }
        } finally {
            arrays.forEach(array -> array.buffer().close());
        }
    }

    /**
     * The fused op against the two ops it stands for, run by the same backend on the same inputs: {@code add} then
     * {@code layerNorm} round the sum to the storage type before normalising, the fused op need not, so the two may
     * differ by that rounding (carried through the norm's scale) and each output's own. It says something only of a
     * backend with a fused kernel (the CPU ones): the CUDA backend's residualLayerNorm is that very composition, which
     * the reference comparison above checks instead.
     */
    @Test
    void residualLayerNormAgreesWithAddThenLayerNorm() {
        SplittableRandom random = TestData.random("residualLayerNorm vs add + layerNorm");
        for (DType dtype : FLOATS) {
            for (int cols : new int[] {1, 19, 384, 1001}) {
                int rows = 1 + random.nextInt(40);
                List<DeviceArray> arrays = new ArrayList<>();
                try {
                    ResidualNormCase in = residualNormCase(random, dtype, rows, cols, arrays);
                    DeviceArray fused = track(arrays, poisoned(dtype, in.shape()));
                    DeviceArray sum = track(arrays, poisoned(dtype, in.shape()));
                    DeviceArray separate = track(arrays, poisoned(dtype, in.shape()));
                    ElementwiseOps ops = backend.ops().elementwise();
                    ops.residualLayerNorm(in.xs(), in.rs(), in.gammas(), in.betas(), 1e-5, fused);
                    ops.add(in.xs(), in.rs(), sum);
                    ops.layerNorm(sum, in.gammas(), in.betas(), 1e-5, separate);
                    float[] one = HostData.downloadFloats(backend, fused);
                    float[] two = HostData.downloadFloats(backend, separate);
                    for (int r = 0; r < rows; r++) {
                        double[] exactSum = in.rowSum(r);
                        double rstd = RowMoments.of(exactSum).rstd();
                        // Rounding each sum to the storage type moves that element by up to its ulp, and the row's
                        // mean and spread by up to the row's largest such ulp.
                        double rowUlp = Arrays.stream(exactSum).map(v -> TestData.ulp(dtype, v)).max().orElseThrow();
                        for (int c = 0; c < cols; c++) {
                            int i = r * cols + c;
                            double gamma = Math.abs(in.gamma()[c]);
                            double roundedSum = (TestData.ulp(dtype, exactSum[c]) + rowUlp) * rstd * gamma
                                    + Math.abs(one[i] - in.beta()[c]) * rowUlp * rstd;
                            assertEquals(one[i], two[i], roundedSum + 2 * TestData.ulp(dtype, one[i])
                                    + 2 * TestData.ulp(dtype, two[i]) + 4e-5 * (1 + Math.abs(one[i])),
                                    dtype + " " + rows + "x" + cols + " row " + r + " col " + c);
                        }
                    }
                } finally {
                    arrays.forEach(array -> array.buffer().close());
                }
            }
        }
    }

    /** A residual layer norm's inputs, on the host and on the backend (the arrays tracked for closing). */
    private record ResidualNormCase(Shape shape, float[] x, float[] residual, float[] gamma, float[] beta,
                                    DeviceArray xs, DeviceArray rs, DeviceArray gammas, DeviceArray betas) {
        /** Row r of x + residual, summed in double. */
        double[] rowSum(int r) {
            int cols = (int) shape.columns();
            double[] sum = new double[cols];
            for (int c = 0; c < cols; c++) {
                sum[c] = (double) x[r * cols + c] + residual[r * cols + c];
            }
            return sum;
        }
    }

    /** Random x (its mean offset, as activations have), residual, gamma and beta of {@code rows × cols}, uploaded. */
    private ResidualNormCase residualNormCase(SplittableRandom random, DType dtype, int rows, int cols,
                                              List<DeviceArray> arrays) {
        float[] x = TestData.uniform(random, rows * cols, 3f, dtype);
        float[] residual = TestData.uniform(random, rows * cols, 3f, dtype);
        for (int i = 0; i < x.length; i++) {
            x[i] = HalfFloats.roundTo(dtype, x[i] + 2f);
        }
        float[] gamma = TestData.uniform(random, cols, 1f, DType.F32);
        float[] beta = TestData.uniform(random, cols, 1f, DType.F32);
        Shape shape = Shape.of(rows, cols);
        return new ResidualNormCase(shape, x, residual, gamma, beta,
                track(arrays, HostData.upload(backend, dtype, shape, x)),
                track(arrays, HostData.upload(backend, dtype, shape, residual)),
                track(arrays, HostData.upload(backend, DType.F32, Shape.of(cols), gamma)),
                track(arrays, HostData.upload(backend, DType.F32, Shape.of(cols), beta)));
    }

    /** A row's mean and {@code 1 / sqrt(variance + 1e-5)} with the biased variance, as layer norm defines them. */
    private record RowMoments(double mean, double rstd) {
        static RowMoments of(double[] row) {
            double mean = Arrays.stream(row).sum() / row.length;
            double variance = 0;
            for (double v : row) {
                variance += (v - mean) * (v - mean);
            }
            return new RowMoments(mean, 1 / Math.sqrt(variance / row.length + 1e-5));
        }

        /** Layer norm of {@code v} in this row, before gamma and beta. */
        double normalised(double v) {
            return (v - mean) * rstd;
        }
    }

    @Test
    void residualLayerNormRejectsBadInputsAndKeepsANaNInItsRow() {
        Shape shape = Shape.of(3, 8);
        float[] values = new float[24];
        for (int i = 0; i < values.length; i++) {
            values[i] = i % 5;
        }
        List<DeviceArray> arrays = new ArrayList<>();
        try {
            DeviceArray x = track(arrays, HostData.upload(backend, DType.F32, shape, values));
            DeviceArray residual = track(arrays, HostData.upload(backend, DType.F32, shape, values));
            DeviceArray halfResidual = track(arrays, HostData.upload(backend, DType.F16, shape, values));
            DeviceArray wide = track(arrays, poisoned(DType.F32, Shape.of(3, 9)));
            DeviceArray gamma = track(arrays, HostData.upload(backend, DType.F32, Shape.of(8), new float[] {1, 1, 1, 1, 1, 1, 1, 1}));
            DeviceArray shortGamma = track(arrays, HostData.upload(backend, DType.F32, Shape.of(4), new float[4]));
            DeviceArray y = track(arrays, poisoned(DType.F32, shape));
            ElementwiseOps ops = backend.ops().elementwise();
            InvalidInputException dtype = assertThrows(InvalidInputException.class,
                    () -> ops.residualLayerNorm(x, halfResidual, gamma, null, 1e-5, y));
            assertEquals(ErrorCode.DTYPE_MISMATCH, dtype.code());
            assertTrue(dtype.getMessage().contains("residualLayerNorm") && dtype.getMessage().contains("share a dtype"),
                    dtype.getMessage());
            assertEquals(ErrorCode.SHAPE_MISMATCH, assertThrows(InvalidInputException.class,
                    () -> ops.residualLayerNorm(x, residual, gamma, null, 1e-5, wide)).code());
            assertTrue(assertThrows(InvalidInputException.class,
                    () -> ops.residualLayerNorm(x, residual, shortGamma, null, 1e-5, y)).getMessage().contains("gamma"));
            assertTrue(assertThrows(InvalidInputException.class,
                    () -> ops.residualLayerNorm(x, residual, gamma, null, Double.NaN, y)).getMessage().contains("epsilon"));
            DeviceArray shifted = new DeviceArray(y.buffer(), 4, DType.F32, Shape.of(2, 8));
            DeviceArray firstRows = new DeviceArray(y.buffer(), 0, DType.F32, Shape.of(2, 8));
            // One overlap check serves the residual norm, the add and the plain norm: each refuses a y one element
            // on from one input, the other input elsewhere, and names the input it overlaps.
            DeviceArray xRows = new DeviceArray(x.buffer(), 0, DType.F32, Shape.of(2, 8));
            for (Map.Entry<String, Runnable> partial : List.<Map.Entry<String, Runnable>>of(
                    Map.entry("x and y", () -> ops.residualLayerNorm(firstRows, xRows, gamma, null, 1e-5, shifted)),
                    Map.entry("residual and y",
                            () -> ops.residualLayerNorm(xRows, firstRows, gamma, null, 1e-5, shifted)),
                    Map.entry("a and y", () -> ops.add(firstRows, xRows, shifted)),
                    Map.entry("b and y", () -> ops.add(xRows, firstRows, shifted)),
                    Map.entry("x and y", () -> ops.layerNorm(firstRows, gamma, null, 1e-5, shifted)))) {
                InvalidInputException overlap = assertThrows(InvalidInputException.class, partial.getValue()::run);
                assertTrue(overlap.getMessage().contains(partial.getKey() + " overlap partially"),
                        overlap.getMessage());
            }

            // A NaN stays in its own row: the rows around it come out normalised.
            values[9] = Float.NaN;
            DeviceArray withNaN = track(arrays, HostData.upload(backend, DType.F32, shape, values));
            backend.fill(y.buffer(), 0, y.byteSize(), (byte) 0); // not NaN: row 1's NaNs must be written
            ops.residualLayerNorm(withNaN, residual, gamma, null, 1e-5, y);
            float[] got = HostData.downloadFloats(backend, y);
            for (int c = 0; c < 8; c++) {
                assertTrue(Float.isNaN(got[8 + c]), "row 1 col " + c + " is " + got[8 + c]);
                assertFalse(Float.isNaN(got[c]) || Float.isNaN(got[16 + c]), "col " + c + " of rows 0 and 2");
            }
            double rowSum = 0;
            for (int c = 0; c < 8; c++) {
                rowSum += got[16 + c];
            }
            assertEquals(0.0, rowSum, 1e-4, "a normalised row sums to zero");
        } finally {
            arrays.forEach(array -> array.buffer().close());
        }
    }

    private static DeviceArray track(List<DeviceArray> arrays, DeviceArray array) {
        arrays.add(array);
        return array;
    }

    @Test
    void badInputsGetClearErrorsAndTheBackendStaysUsable() {
        Shape shape = Shape.of(4, 8);
        DeviceArray x = HostData.upload(backend, DType.F32, shape, new float[32]);
        DeviceArray y = poisoned(DType.F32, Shape.of(8, 4));
        DeviceArray ints = HostData.upload(backend, Shape.of(4, 8), new int[32]);
        DeviceArray wrongBias = HostData.upload(backend, DType.F32, Shape.of(4), new float[] {1, 2, 3, 4});
        try {
            assertEquals(ErrorCode.SHAPE_MISMATCH, assertThrows(InvalidInputException.class,
                    () -> backend.ops().elementwise().biasActivation(x, null, Activation.RELU, y)).code());
            assertEquals(ErrorCode.DTYPE_MISMATCH, assertThrows(InvalidInputException.class,
                    () -> backend.ops().elementwise().cast(ints, x)).code());
            assertTrue(assertThrows(InvalidInputException.class, () -> backend.ops().elementwise().biasActivation(x, wrongBias,
                    Activation.NONE, x)).getMessage().contains("bias has shape [4] but x has 8 columns"));
            assertEquals(ErrorCode.SHAPE_MISMATCH, assertThrows(InvalidInputException.class,
                    () -> backend.ops().elementwise().rowReduce(x, RowReduction.SUM, y)).code());
            // In place on identical elements is allowed.
            backend.ops().elementwise().biasActivation(x, null, Activation.RELU, x);
            y.buffer().close();
            LacunaException closed = assertThrows(ResourceClosedException.class, () -> backend.ops().elementwise().cast(x, y));
            assertEquals(ErrorCode.CLOSED, closed.code());
            // After all those errors the backend still works.
            DeviceArray out = poisoned(DType.F32, Shape.of(4));
            backend.ops().elementwise().rowReduce(x, RowReduction.SUM, out);
            assertEquals(0f, HostData.downloadFloats(backend, out)[3]);
            out.buffer().close();
        } finally {
            x.buffer().close();
            y.buffer().close();
            ints.buffer().close();
            wrongBias.buffer().close();
        }
    }
}

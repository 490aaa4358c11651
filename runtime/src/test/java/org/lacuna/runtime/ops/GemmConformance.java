package org.lacuna.runtime.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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
 * What every backend's GEMM family (dense, 2:4 and CSR weights) must compute, checked against formulas evaluated here in double precision on fresh
 * random inputs of many shapes (ragged ones included). Outputs are poisoned with NaN bytes before each run, so an
 * element the backend forgot to write fails the check. Subclasses supply the backend.
 */
public abstract class GemmConformance extends BackendConformance {
    private static final List<DType> FLOATS = List.of(DType.F32, DType.F16, DType.BF16);
    private static final int[][] LINEAR_SHAPES = {{1, 8, 16}, {3, 37, 71}, {17, 128, 64}, {33, 130, 200},
        {70, 64, 96}, {129, 257, 136}, {5, 300, 260}};

    @Test
    protected void linearKernelsMatchTheDoubleReference() {
        SplittableRandom random = TestData.random("linear");
        for (int[] shape : LINEAR_SHAPES) {
            int tokens = shape[0];
            int out = shape[1];
            int in = shape[2];
            for (DType dtype : List.of(DType.F16, DType.BF16)) {
                float[] w = TwoFourPruning.prune(TestData.uniform(random, out * in, 1f, dtype), out, in);
                float[] x = TestData.uniform(random, tokens * in, 1f, dtype);
                float[] bias = TestData.uniform(random, out, 0.5f, DType.F32);
                Activation activation = Activation.values()[random.nextInt(3)];
                DType outType = FLOATS.get(random.nextInt(3));
                boolean withBias = random.nextBoolean();
                double[] expected = linearReference(x, w, withBias ? bias : null, activation, tokens, out, in);

                DeviceArray xs = HostData.upload(backend, dtype, Shape.of(tokens, in), x);
                DeviceArray bs = HostData.upload(backend, DType.F32, Shape.of(out), bias);
                DeviceArray dense = DeviceWeights.uploadDense(backend, w, out, in, dtype);
                TwoFourWeight twoFour = DeviceWeights.upload(backend, TwoFourWeights.compress(w, out, in, dtype));
                CsrWeight csr = DeviceWeights.upload(backend, CsrMatrix.fromDense(w, out, in, dtype));
                try {
                    for (LinearKernel kernel : LinearKernel.values()) {
                        DeviceArray ys = poisoned(outType, Shape.of(tokens, out));
                        DeviceArray b = withBias ? bs : null;
                        switch (kernel) {
                            case DENSE -> backend.ops().gemm().linearDense(xs, dense, b, activation, ys);
                            case TWO_FOUR -> backend.ops().gemm().linearTwoFour(xs, twoFour, b, activation, ys);
                            case CSR -> backend.ops().gemm().linearCsr(xs, csr, b, activation, ys);
                        }
                        float[] y = HostData.downloadFloats(backend, ys);
                        ys.buffer().close();
                        for (int i = 0; i < y.length; i++) {
                            // fp32 accumulation over `in` products of magnitude <= 1, plus up to two output roundings.
                            double tolerance = 2 * TestData.ulp(outType, expected[i]) + 2e-6 * in + 1e-6;
                            assertEquals(expected[i], y[i], tolerance, kernel + " " + dtype + "->" + outType + " "
                                    + activation + " tokens=" + tokens + " out=" + out + " in=" + in + " at " + i);
                        }
                    }
                } finally {
                    xs.buffer().close();
                    bs.buffer().close();
                    dense.buffer().close();
                    DeviceWeights.release(twoFour);
                    DeviceWeights.release(csr);
                }
            }
        }
    }

    /** {@code act(x · wᵀ + bias)} in double, x [tokens, in] and w [out, in] row-major. */
    public static double[] linearReference(float[] x, float[] w, float[] bias, Activation activation, int tokens,
                                           int out, int in) {
        double[] y = new double[tokens * out];
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                double acc = bias == null ? 0 : bias[o];
                for (int k = 0; k < in; k++) {
                    acc += (double) x[t * in + k] * w[o * in + k];
                }
                y[t * out + o] = activation.apply(acc);
            }
        }
        return y;
    }

    /**
     * Pins the metadata mapping of the 2:4 kernel: with X the identity, Y[c][r] must be exactly W[r][c]. Every
     * position of every group of a 256x128 weight (two row tiles, two K tiles) carries a non-zero in one of the
     * runs — one kept position per group at p = 0..3, then both kept positions for each of the six index pairs —
     * and every value is unique, so a wrong lane, row, selector or nibble puts a value in the wrong place.
     */
    @Test
    protected void twoFourMetadataPlacesEveryPositionExactly() {
        int out = 256;
        int in = 128;
        float[] identity = new float[in * in];
        for (int i = 0; i < in; i++) {
            identity[i * in + i] = 1f;
        }
        int[][] patterns = {{0}, {1}, {2}, {3}, {0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
        DeviceArray xs = HostData.upload(backend, DType.F16, Shape.of(in, in), identity);
        try {
            for (int[] kept : patterns) {
                float[] w = new float[out * in];
                for (int r = 0; r < out; r++) {
                    for (int g = 0; g < in / 4; g++) {
                        for (int slot = 0; slot < kept.length; slot++) {
                            // Unique and exact in fp16: integers up to 2048 (sign and slot vary too).
                            int id = (r * (in / 4) + g) % 1024 + 1;
                            w[r * in + 4 * g + kept[slot]] = (slot == 0 ? id : -id) * ((r + g) % 2 == 0 ? 1 : 2) / 2f;
                        }
                    }
                }
                TwoFourWeight weight = DeviceWeights.upload(backend, TwoFourWeights.compress(w, out, in, DType.F16));
                DeviceArray ys = poisoned(DType.F32, Shape.of(in, out));
                try {
                    backend.ops().gemm().linearTwoFour(xs, weight, null, Activation.NONE, ys);
                    float[] y = HostData.downloadFloats(backend, ys);
                    for (int c = 0; c < in; c++) {
                        for (int r = 0; r < out; r++) {
                            float want = HalfFloats.roundTo(DType.F16, w[r * in + c]);
                            assertEquals(want, y[c * out + r], 0f, "pattern " + java.util.Arrays.toString(kept)
                                    + ": W[" + r + "][" + c + "] landed wrong");
                        }
                    }
                } finally {
                    DeviceWeights.release(weight);
                    ys.buffer().close();
                }
            }
        } finally {
            xs.buffer().close();
        }
    }
}

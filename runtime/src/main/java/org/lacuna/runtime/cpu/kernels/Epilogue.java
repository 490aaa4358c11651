package org.lacuna.runtime.cpu.kernels;

import org.lacuna.runtime.ops.Activation;

/**
 * The fused epilogue of the CPU GEMMs, run on a tile of C while it is still in cache: {@code c = act(c + bias[col])}
 * in fp32. GELU is the erf form; erfc comes from a Chebyshev fit with relative error below 1.2e-7 everywhere
 * (Numerical Recipes' {@code erfcc}), evaluated in double, so the tails keep their relative accuracy.
 */
public final class Epilogue {
    private static final double MINUS_ONE_OVER_SQRT_TWO = -0.7071067811865476;

    private Epilogue() {
    }

    /**
     * {@link VectorEpilogue} and {@link VectorGelu} when {@code vectorApi} is true and the JVM has the module, else the
     * scalar form below. The two GELUs round differently (fp32 lanes against double), each the same way every time.
     */
    public static void biasActivation(boolean vectorApi, float[] c, int cOffset, int ldc, int rows, int cols,
                                      float[] bias, int biasOffset, Activation activation) {
        if (activation == Activation.NONE && bias == null) {
            return;
        }
        if (vectorApi && VectorModule.present()) {
            VectorEpilogue.biasActivation(c, cOffset, ldc, rows, cols, bias, biasOffset, activation);
        } else {
            biasActivation(c, cOffset, ldc, rows, cols, bias, biasOffset, activation);
        }
    }

    /**
     * The scalar form.
     *
     * @param bias       per-column bias, or null for none
     * @param biasOffset index in {@code bias} of the tile's first column
     */
    public static void biasActivation(float[] c, int cOffset, int ldc, int rows, int cols, float[] bias, int biasOffset,
                                      Activation activation) {
        for (int r = 0; r < rows; r++) {
            int row = cOffset + r * ldc;
            if (bias != null) {
                for (int j = 0; j < cols; j++) {
                    c[row + j] += bias[biasOffset + j];
                }
            }
            switch (activation) {
                case NONE -> {
                }
                case RELU -> {
                    for (int j = 0; j < cols; j++) {
                        c[row + j] = Math.max(c[row + j], 0f);
                    }
                }
                case GELU -> {
                    for (int j = 0; j < cols; j++) {
                        c[row + j] = gelu(c[row + j]);
                    }
                }
            }
        }
    }

    /** {@code x · Φ(x) = x/2 · erfc(-x/√2)}, to fp32 accuracy. */
    public static float gelu(float x) {
        return (float) (0.5 * x * erfc(x * MINUS_ONE_OVER_SQRT_TWO));
    }

    /** The complementary error function, relative error below 1.2e-7. */
    static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        // StrictMath: Math.exp may be an intrinsic whose last bit differs between the interpreter and compiled code.
        double value = t * StrictMath.exp(-z * z + poly);
        return x >= 0 ? value : 2.0 - value;
    }
}

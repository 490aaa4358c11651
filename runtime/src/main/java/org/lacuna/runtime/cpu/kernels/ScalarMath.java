package org.lacuna.runtime.cpu.kernels;

/**
 * fp32 special functions for the serving kernels, written so that {@link VectorMath} evaluates the same formula lane
 * by lane. GELU is the exact erf form, computed as {@code x/2 · erfc(-x/√2)} so that the negative tail keeps its
 * relative accuracy instead of cancelling in {@code 1 + erf}.
 */
public final class ScalarMath {
    static final float INV_SQRT2 = 0.70710678f;
    static final float ERFC_BIAS = -1.26551223f;
    /**
     * erfc(z) = t·exp(-z² + ERFC_BIAS + t·P(t)) with t = 1/(1 + z/2), z ≥ 0: the Chebyshev fit of Numerical Recipes
     * (§6.2, fractional error below 1.2e-7 in exact arithmetic, below 1e-6 in fp32). P's coefficients from the
     * constant term up.
     */
    static final float[] ERFC_POLY = {1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f, 0.27886807f,
        -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f};

    private ScalarMath() {
    }

    /** The complementary error function in fp32. */
    public static float erfc(float z) {
        float a = Math.abs(z);
        float t = 1f / Math.fma(0.5f, a, 1f);
        float p = ERFC_POLY[ERFC_POLY.length - 1];
        for (int i = ERFC_POLY.length - 2; i >= 0; i--) {
            p = Math.fma(t, p, ERFC_POLY[i]);
        }
        // -a·a + (bias + t·P) with one rounding: a² alone would carry a relative error of 2^-24 into exp's argument.
        float tail = t * (float) Math.exp(Math.fma(-a, a, ERFC_BIAS + t * p));
        return z >= 0 ? tail : 2f - tail;
    }

    /** The error function in fp32 (absolute error below 4e-7). */
    public static float erf(float z) {
        return 1f - erfc(z);
    }

    /** GELU, erf form: {@code x/2 · (1 + erf(x/√2))}. */
    public static float gelu(float x) {
        return 0.5f * x * erfc(-x * INV_SQRT2);
    }
}

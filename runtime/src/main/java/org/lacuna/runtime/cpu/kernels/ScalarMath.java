package org.lacuna.runtime.cpu.kernels;

/**
 * fp32 special functions for the serving kernels. {@link VectorMath} evaluates the same operations lane by lane, and
 * both use only correctly rounded arithmetic (+, ×, ÷, fused multiply-add), so the two paths give the same bits, and
 * give them whether or not the JIT has compiled the code yet (the Vector API's own EXP does not: its intrinsic and
 * its Java fallback differ in the last bit). GELU is the exact erf form, computed as {@code x/2 · erfc(-x/√2)} so
 * that the negative tail keeps its relative accuracy instead of cancelling in {@code 1 + erf}.
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

    /** exp: 2^n · e^r with n = round(x / ln 2) and |r| ≤ ln 2 / 2, ln 2 split in two for an exact reduction. */
    static final float LOG2E = 1.44269504f;
    static final float LN2_HIGH = 0.693359375f;
    static final float LN2_LOW = -2.12194440e-4f;
    /** 1.5 · 2^23: adding it rounds to an integer (to nearest even), which then sits in the low mantissa bits. */
    static final float ROUNDING = 12582912f;
    /**
     * Above this exp gives infinity (2^n must stay a normal float; the last 0.4% below Float.MAX_VALUE is given up,
     * as in Cephes); below {@link #EXP_MIN} its result, subnormal at most, is flushed to 0.
     */
    static final float EXP_MAX = 88.3762626f;
    static final float EXP_MIN = -87.3365447f;
    /** e^r = 1 + r + r²·Q(r) on [-ln 2/2, ln 2/2] (Cephes expf; error about 1 ulp). Q's coefficients from the constant term up. */
    static final float[] EXP_POLY = {5.0000001201e-1f, 1.6666665459e-1f, 4.1665795894e-2f, 8.3334519073e-3f,
        1.3981999507e-3f, 1.9875691500e-4f};

    private ScalarMath() {
    }

    /** e^x in fp32, within two ulps of Math.exp; results below 2^-126 flush to zero, above 2.4e38 to infinity. */
    public static float exp(float x) {
        float clamped = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
        float shifted = Math.fma(clamped, LOG2E, ROUNDING);
        float n = shifted - ROUNDING;
        int exponent = Float.floatToRawIntBits(shifted) - Float.floatToRawIntBits(ROUNDING);
        float r = Math.fma(-n, LN2_HIGH, clamped);
        r = Math.fma(-n, LN2_LOW, r);
        float q = EXP_POLY[EXP_POLY.length - 1];
        for (int i = EXP_POLY.length - 2; i >= 0; i--) {
            q = Math.fma(q, r, EXP_POLY[i]);
        }
        float y = (Math.fma(q, r * r, r) + 1f) * Float.intBitsToFloat((exponent + 127) << 23);
        return x < EXP_MIN ? 0f : x > EXP_MAX ? Float.POSITIVE_INFINITY : y;
    }

    /** The complementary error function in fp32. */
    public static float erfc(float z) {
        float a = Math.abs(z);
        float t = 1f / Math.fma(0.5f, a, 1f);
        float p = ERFC_POLY[ERFC_POLY.length - 1];
        for (int i = ERFC_POLY.length - 2; i >= 0; i--) {
            p = Math.fma(p, t, ERFC_POLY[i]);
        }
        // -a·a + (bias + t·P) with one rounding: a² alone would carry a relative error of 2^-24 into exp's argument.
        float tail = t * exp(Math.fma(-a, a, ERFC_BIAS + t * p));
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

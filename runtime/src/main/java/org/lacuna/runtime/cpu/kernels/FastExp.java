package org.lacuna.runtime.cpu.kernels;

/**
 * {@code exp(x)} in fp32 by range reduction and a polynomial (Cephes' expf): {@code x = k·ln 2 + r} with
 * {@code |r| <= ln 2 / 2}, {@code exp(r) = 1 + r + r²·P(r)} with P of degree 5, then scaled by {@code 2^k}. Within 2
 * ulp of the correctly rounded result over the normal range; +inf above about 88.72, gradual underflow below -87.3
 * and 0 from about -104 (so {@code exp(-inf) = 0}, which the softmax's masked keys rely on); NaN stays NaN.
 *
 * <p>This scalar form and {@link VectorExp} are the same arithmetic, operation for operation (every step is an IEEE
 * operation or an exact fused multiply-add), so a lane of the vector result equals this for the same input. Pure
 * float arithmetic also means one result whatever the JIT has compiled so far, which keeps kernels bit for bit the
 * same across thread counts.
 *
 * <p>{@link VectorGelu} uses the vector form too: its erfc fit is accurate to 1.2e-7, so an exp within 2 ulp costs it
 * little.
 */
public final class FastExp {
    static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in two: LN2_HI has 9 significant bits, so k·LN2_HI is exact for every k the clamp allows. */
    static final float LN2_HI = 0.693359375f;
    static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 · 2^23: adding and subtracting it rounds a float of magnitude < 2^22 to the nearest integer. */
    static final float ROUND = 12582912f;
    /** Below this exp(x) is under half the smallest subnormal (0); above the upper clamp it overflows to +inf. */
    static final float LOWEST = -104f;
    static final float HIGHEST = 89f;
    static final float P0 = 1.9875691500e-4f;
    static final float P1 = 1.3981999507e-3f;
    static final float P2 = 8.3334519073e-3f;
    static final float P3 = 4.1665795894e-2f;
    static final float P4 = 1.6666665459e-1f;
    static final float P5 = 5.0000001201e-1f;

    private FastExp() {
    }

    public static float exp(float x) {
        float clamped = Math.min(Math.max(x, LOWEST), HIGHEST);
        float k = (clamped * LOG2E + ROUND) - ROUND;
        float r = Math.fma(k, -LN2_HI, clamped);
        r = Math.fma(k, -LN2_LO, r);
        float p = Math.fma(P0, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        // 2^k as two normal powers of two, so k from -150 to 128 scales without an overflowing exponent field.
        int ki = (int) k;
        int half = ki >> 1;
        return y * Float.intBitsToFloat((half + 127) << 23) * Float.intBitsToFloat((ki - half + 127) << 23);
    }
}

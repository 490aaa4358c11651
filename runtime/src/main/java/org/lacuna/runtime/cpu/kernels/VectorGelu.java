package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GELU in fp32 lanes: {@code x/2 · erfc(-x/√2)} with the erfc fit of {@link Epilogue#erfc} ({@code t · e^(-z² +
 * P(t))}, relative error below 1.2e-7) and {@link VectorExp}'s exp, built only from lane operations that round the
 * same way in every JIT tier (add, multiply, fused multiply-add, divide, compare, conversions of whole numbers, bit
 * shifts), so results never depend on timing. z² enters the exponent as an exact two-term product of x, so the
 * exponent keeps fp32 accuracy where it is large; the result is within a few fp32 ulps of GELU (or below 1e-9 where GELU's
 * tail is tiny). Sixteen lanes of fp32 where the double-lane form it replaced took two passes of eight: about 2.5
 * times fewer cycles a value. Only loaded with {@code jdk.incubator.vector}.
 */
final class VectorGelu {
    static final VectorSpecies<Float> SPECIES = VectorExp.SPECIES;
    private static final float MINUS_ONE_OVER_SQRT_TWO = -0.70710678f;

    private VectorGelu() {
    }

    static FloatVector gelu(FloatVector x) {
        VectorSpecies<Float> species = SPECIES; // a constant, which the JIT needs to intrinsify the broadcasts
        FloatVector u = x.mul(MINUS_ONE_OVER_SQRT_TWO);
        FloatVector z = u.abs();
        FloatVector one = FloatVector.broadcast(species, 1f);
        FloatVector t = one.div(z.fma(0.5f, 1f));
        FloatVector poly = t.fma(0.17087277f, -0.82215223f);
        poly = poly.fma(t, FloatVector.broadcast(species, 1.48851587f));
        poly = poly.fma(t, FloatVector.broadcast(species, -1.13520398f));
        poly = poly.fma(t, FloatVector.broadcast(species, 0.27886807f));
        poly = poly.fma(t, FloatVector.broadcast(species, -0.18628806f));
        poly = poly.fma(t, FloatVector.broadcast(species, 0.09678418f));
        poly = poly.fma(t, FloatVector.broadcast(species, 0.37409196f));
        poly = poly.fma(t, FloatVector.broadcast(species, 1.00002368f));
        poly = poly.fma(t, FloatVector.broadcast(species, -1.26551223f));
        // -z² + poly with z² = x²/2 = (high + low)/2 exactly, from x itself: z's own rounding, or that of z², would
        // cost ulps of a large exponent, and every ulp of the exponent is one of the result.
        FloatVector high = x.mul(x);
        FloatVector low = x.fma(x, high.neg());
        FloatVector e = t.mul(VectorExp.exp(poly.sub(high.mul(0.5f)).sub(low.mul(0.5f))));
        FloatVector erfc = e.blend(one.add(one).sub(e), u.compare(VectorOperators.LT, 0f));
        return x.mul(0.5f).mul(erfc);
    }
}

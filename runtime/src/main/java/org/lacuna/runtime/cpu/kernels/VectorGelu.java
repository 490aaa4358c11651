package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GELU in fp32 lanes over a row of floats: {@code x/2 · erfc(-x/√2)} with the erfc fit of {@link Epilogue#erfc}
 * ({@code t · e^(-z² + P(t))}, relative error below 1.2e-7) and {@link FastExp}'s exp, built only from lane operations
 * that round the same way in every JIT tier (add, multiply, fused multiply-add, divide, compare, conversions of whole
 * numbers, bit shifts), so results never depend on timing. z² enters the exponent as an exact two-term product of x,
 * so the exponent keeps fp32 accuracy where it is large; the result is within a few fp32 ulps of GELU (or below 1e-9
 * where GELU's tail is tiny). Only loaded with {@code jdk.incubator.vector}.
 *
 * <p>The whole formula, exp included, is written out inside the one loop of {@link #apply}, and a ragged tail runs
 * through that same loop body on a padded copy: the vector never crosses a call. A GELU of its own that the loop
 * called was not inlined once C2 had compiled it on its own ("callee is too large", then "too big" against its
 * compiled size); the vector it returned was then boxed, and the operations on it fell back to the Vector API's
 * scalar Java loops (JFR: 13% of a 32-sentence encoder forward in the FFN's GELU epilogue, against 4% compiled
 * whole). Called once per row of a tile, the loop itself may stay a call.
 */
final class VectorGelu {
    static final VectorSpecies<Float> SPECIES = VectorExp.SPECIES;
    private static final int LANES = SPECIES.length();
    private static final float MINUS_ONE_OVER_SQRT_TWO = -0.70710678f;

    private VectorGelu() {
    }

    /**
     * {@code x[offset + j] = gelu(x[offset + j] + bias[biasOffset + j])} for j in [0, count); bias may be null. The
     * bias is added in fp32 (lanes, or the same single rounding per element in the tail).
     *
     * @param edge at least {@link #LANES} floats of scratch for a ragged tail
     */
    static void apply(float[] x, int offset, int count, float[] bias, int biasOffset, float[] edge) {
        VectorSpecies<Float> species = SPECIES; // a constant, which the JIT needs to intrinsify the broadcasts
        int full = species.loopBound(count);
        for (int j = 0; j < count; j += LANES) {
            // The tail: padded into edge, so it runs the same code as the full vectors (one copy of the formula).
            boolean tail = j >= full;
            float[] at = x;
            int index = offset + j;
            if (tail) {
                java.util.Arrays.fill(edge, count - j, LANES, 0f); // the lanes past the row
                for (int i = 0; i < count - j; i++) {
                    edge[i] = bias == null ? x[index + i] : x[index + i] + bias[biasOffset + j + i];
                }
                at = edge;
                index = 0;
            }
            FloatVector v = FloatVector.fromArray(species, at, index);
            if (bias != null && !tail) {
                v = v.add(FloatVector.fromArray(species, bias, biasOffset + j));
            }
            // erfc(u), u = -x/√2, as t · e^(-z² + P(t)) with z = |u| and t = 1/(1 + z/2).
            FloatVector u = v.mul(MINUS_ONE_OVER_SQRT_TWO);
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
            FloatVector high = v.mul(v);
            FloatVector low = v.fma(v, high.neg());
            FloatVector exponent = poly.sub(high.mul(0.5f)).sub(low.mul(0.5f));
            // FastExp.exp (VectorExp's steps, its compare-and-blend clamp and k read from the rounded bits included),
            // written out: see the class comment for why not a call.
            FloatVector lowest = FloatVector.broadcast(species, FastExp.LOWEST);
            FloatVector highest = FloatVector.broadcast(species, FastExp.HIGHEST);
            FloatVector clamped = exponent.blend(lowest, exponent.compare(VectorOperators.LT, lowest));
            clamped = clamped.blend(highest, clamped.compare(VectorOperators.GT, highest));
            FloatVector rounded = clamped.mul(FastExp.LOG2E).add(FastExp.ROUND);
            FloatVector k = rounded.sub(FastExp.ROUND);
            FloatVector r = k.fma(FloatVector.broadcast(species, -FastExp.LN2_HI), clamped);
            r = k.fma(FloatVector.broadcast(species, -FastExp.LN2_LO), r);
            FloatVector p = r.fma(FastExp.P0, FastExp.P1);
            p = p.fma(r, FloatVector.broadcast(species, FastExp.P2));
            p = p.fma(r, FloatVector.broadcast(species, FastExp.P3));
            p = p.fma(r, FloatVector.broadcast(species, FastExp.P4));
            p = p.fma(r, FloatVector.broadcast(species, FastExp.P5));
            FloatVector y = p.fma(r.mul(r), r).add(1f);
            IntVector ki = ((IntVector) rounded.reinterpretAsInts()).sub(VectorExp.ROUND_BITS);
            IntVector half = ki.lanewise(VectorOperators.ASHR, 1);
            FloatVector low2 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector high2 = ki.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = t.mul(y.mul(low2).mul(high2));
            FloatVector erfc = e.blend(one.add(one).sub(e), u.compare(VectorOperators.LT, 0f));
            v.mul(0.5f).mul(erfc).intoArray(at, index);
            if (tail) {
                System.arraycopy(edge, 0, x, offset + j, count - j);
            }
        }
    }
}

package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ScalarMath}'s fp32 exp, erfc and GELU lane by lane: the same correctly rounded operations in the same order,
 * so every lane gives the bits the scalar function gives. Uses jdk.incubator.vector: load only where the module is
 * present.
 */
public final class VectorMath {
    private VectorMath() {
    }

    /** e^x of every lane, as {@link ScalarMath#exp}. */
    public static FloatVector exp(FloatVector x) {
        VectorSpecies<Float> species = x.species();
        FloatVector clamped = x.max(ScalarMath.EXP_MIN).min(ScalarMath.EXP_MAX);
        FloatVector shifted = clamped.fma(ScalarMath.LOG2E, ScalarMath.ROUNDING);
        FloatVector n = shifted.sub(ScalarMath.ROUNDING);
        IntVector exponent = shifted.reinterpretAsInts().sub(Float.floatToRawIntBits(ScalarMath.ROUNDING));
        FloatVector r = n.neg().fma(FloatVector.broadcast(species, ScalarMath.LN2_HIGH), clamped);
        r = n.neg().fma(FloatVector.broadcast(species, ScalarMath.LN2_LOW), r);
        float[] poly = ScalarMath.EXP_POLY;
        FloatVector q = FloatVector.broadcast(species, poly[poly.length - 1]);
        for (int i = poly.length - 2; i >= 0; i--) {
            q = q.fma(r, FloatVector.broadcast(species, poly[i]));
        }
        FloatVector scale = exponent.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector y = q.fma(r.mul(r), r).add(1f).mul(scale);
        return y.blend(0f, x.compare(VectorOperators.LT, ScalarMath.EXP_MIN))
                .blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, ScalarMath.EXP_MAX));
    }

    /** erfc of every lane. */
    public static FloatVector erfc(FloatVector z) {
        VectorSpecies<Float> species = z.species();
        FloatVector a = z.abs();
        FloatVector one = FloatVector.broadcast(species, 1f);
        FloatVector t = one.div(a.fma(0.5f, 1f));
        float[] poly = ScalarMath.ERFC_POLY;
        FloatVector p = FloatVector.broadcast(species, poly[poly.length - 1]);
        for (int i = poly.length - 2; i >= 0; i--) {
            p = p.fma(t, FloatVector.broadcast(species, poly[i]));
        }
        FloatVector argument = a.neg().fma(a, t.mul(p).add(ScalarMath.ERFC_BIAS));
        FloatVector tail = t.mul(exp(argument));
        VectorMask<Float> negative = z.compare(VectorOperators.LT, 0f);
        return tail.blend(FloatVector.broadcast(species, 2f).sub(tail), negative);
    }

    /** GELU, erf form, of every lane. */
    public static FloatVector gelu(FloatVector x) {
        return x.mul(0.5f).mul(erfc(x.mul(-ScalarMath.INV_SQRT2)));
    }

    /** {@code values[from, to)} = GELU of themselves: the fused epilogue of GEMM and attention helpers. */
    public static void geluInPlace(float[] values, int from, int to) {
        VectorSpecies<Float> species = FloatVector.SPECIES_PREFERRED;
        int i = from;
        for (int end = from + species.loopBound(to - from); i < end; i += species.length()) {
            gelu(FloatVector.fromArray(species, values, i)).intoArray(values, i);
        }
        for (; i < to; i++) {
            values[i] = ScalarMath.gelu(values[i]);
        }
    }
}

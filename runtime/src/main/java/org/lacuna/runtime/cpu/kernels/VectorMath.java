package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ScalarMath}'s fp32 erfc and GELU lane by lane (same formula, same fused multiply-adds; exp is the Vector
 * API's, within an ulp of Math.exp). Uses jdk.incubator.vector: load only where the module is present.
 */
public final class VectorMath {
    private VectorMath() {
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
            p = t.fma(p, FloatVector.broadcast(species, poly[i]));
        }
        FloatVector argument = a.neg().fma(a, t.mul(p).add(ScalarMath.ERFC_BIAS));
        FloatVector tail = t.mul(argument.lanewise(VectorOperators.EXP));
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

package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GELU over fp32 rows in double-precision lanes: {@code x/2 · erfc(-x/√2)} with the erfc fit of
 * {@link Epilogue#erfc} and its own exp, built only from lane operations that round the same way in every JIT tier
 * (add, multiply, fused multiply-add, divide, compare, bit shifts). The Vector API's {@code EXP} lanes do not: they
 * round differently once C2 has compiled them, which would make results depend on timing. Only loaded with
 * {@code jdk.incubator.vector}.
 *
 * <p>Its exp is not {@link VectorExp} (attention's fp32 exp) on purpose: erfc is evaluated in double lanes with an exp
 * accurate to 1e-10, and an fp32 exp would lose that accuracy in the tails and change every GELU result's bits.
 */
final class VectorGelu {
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class,
            jdk.incubator.vector.VectorShape.forBitSize(DOUBLES.vectorBitSize() / 2));
    private static final int LANES = DOUBLES.length();
    private static final double MINUS_ONE_OVER_SQRT_TWO = -0.7071067811865476;
    private static final double LOG2_E = 1.4426950408889634;
    private static final double LN2_HI = 0.6931471803691238;
    private static final double LN2_LO = 1.9082149292705877e-10;
    /** 1.5 · 2^52: adding it rounds to an integer held in the low mantissa bits. */
    private static final double ROUNDING = 6755399441055744.0;
    /** Below this exponent erfc's factor exp(-z²) is under 1e-300; clamping keeps 2^n a normal double. */
    private static final double MIN_EXPONENT = -700.0;

    private VectorGelu() {
    }

    /** {@code c[from, to) = gelu(c)}. */
    static void apply(float[] c, int from, int to) {
        int i = from;
        for (; i + LANES <= to; i += LANES) {
            gelu(FloatVector.fromArray(FLOATS, c, i)).intoArray(c, i);
        }
        if (i < to) {
            VectorMask<Float> tail = FLOATS.indexInRange(i, to);
            gelu(FloatVector.fromArray(FLOATS, c, i, tail)).intoArray(c, i, tail);
        }
    }

    private static FloatVector gelu(FloatVector input) {
        DoubleVector x = (DoubleVector) input.convertShape(VectorOperators.F2D, DOUBLES, 0);
        DoubleVector u = x.mul(MINUS_ONE_OVER_SQRT_TWO);
        DoubleVector z = u.abs();
        DoubleVector t = DoubleVector.broadcast(DOUBLES, 1.0).div(z.fma(0.5, 1.0));
        DoubleVector poly = t.fma(0.17087277, -0.82215223);
        poly = poly.fma(t, constant(1.48851587));
        poly = poly.fma(t, constant(-1.13520398));
        poly = poly.fma(t, constant(0.27886807));
        poly = poly.fma(t, constant(-0.18628806));
        poly = poly.fma(t, constant(0.09678418));
        poly = poly.fma(t, constant(0.37409196));
        poly = poly.fma(t, constant(1.00002368));
        poly = poly.fma(t, constant(-1.26551223));
        DoubleVector e = t.mul(exp(z.neg().fma(z, poly)));
        DoubleVector erfc = e.blend(e.neg().add(2.0), u.compare(VectorOperators.LT, 0.0));
        return (FloatVector) x.mul(0.5).mul(erfc).convertShape(VectorOperators.D2F, FLOATS, 0);
    }

    /** e^y for y ≤ 1, relative error below 1e-10: 2^n · e^r with |r| ≤ ln2/2 and a degree-9 Taylor polynomial. */
    private static DoubleVector exp(DoubleVector y) {
        y = y.max(MIN_EXPONENT);
        DoubleVector shifted = y.fma(LOG2_E, ROUNDING);
        DoubleVector n = shifted.sub(ROUNDING);
        DoubleVector r = n.fma(constant(-LN2_HI), y);
        r = n.fma(constant(-LN2_LO), r);
        DoubleVector p = r.fma(1.0 / 362880, 1.0 / 40320);
        p = p.fma(r, constant(1.0 / 5040));
        p = p.fma(r, constant(1.0 / 720));
        p = p.fma(r, constant(1.0 / 120));
        p = p.fma(r, constant(1.0 / 24));
        p = p.fma(r, constant(1.0 / 6));
        p = p.fma(r, constant(0.5));
        p = p.fma(r, constant(1.0));
        p = p.fma(r, constant(1.0));
        LongVector integer = shifted.reinterpretAsLongs().sub(Double.doubleToRawLongBits(ROUNDING));
        DoubleVector scale = integer.add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
        return p.mul(scale);
    }

    private static DoubleVector constant(double value) {
        return DoubleVector.broadcast(DOUBLES, value);
    }
}

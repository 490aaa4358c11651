package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FastExp} on every lane of a vector of {@link #SPECIES}: the same operations in the same order, so each lane equals the scalar
 * result, for attention's softmax and {@link VectorGelu}. Loaded only when the Vector API is enabled.
 */
final class VectorExp {
    /** The preferred shape, at most 512 bits (16 floats): every attention tile splits into pairs of these. */
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED.length() <= 16
            ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_512;

    private VectorExp() {
    }

    /** The bits of {@link FastExp#ROUND}: {@code k + ROUND}, rounded, holds the integer k in its low bits. */
    static final int ROUND_BITS = Float.floatToRawIntBits(FastExp.ROUND);

    /**
     * The clamp is a compare and a blend, not {@code max}/{@code min}: those keep Java's NaN and signed-zero rules,
     * which C2 builds from several instructions on AVX-512, and the bounds are neither zero nor NaN, so a NaN passes
     * either way. The integer k is read from the bits of {@code x·log2(e) + ROUND} (a float in [2^23, 2^24), where
     * the ulp is 1) rather than converted, whose Java saturation rules cost as many again. The same bits as the
     * scalar form; together 1.7x faster on 16-float vectors (ad hoc, one JVM).
     */
    static FloatVector exp(FloatVector x) {
        VectorSpecies<Float> species = SPECIES; // a constant, which the JIT needs to intrinsify the broadcasts
        FloatVector lowest = FloatVector.broadcast(species, FastExp.LOWEST);
        FloatVector highest = FloatVector.broadcast(species, FastExp.HIGHEST);
        FloatVector clamped = x.blend(lowest, x.compare(VectorOperators.LT, lowest));
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
        IntVector ki = ((IntVector) rounded.reinterpretAsInts()).sub(ROUND_BITS);
        IntVector half = ki.lanewise(VectorOperators.ASHR, 1);
        FloatVector low = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector high = ki.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(low).mul(high);
    }
}

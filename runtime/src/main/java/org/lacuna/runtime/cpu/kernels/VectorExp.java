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

    static FloatVector exp(FloatVector x) {
        VectorSpecies<Float> species = SPECIES; // a constant, which the JIT needs to intrinsify the broadcasts
        FloatVector clamped = x.max(FastExp.LOWEST).min(FastExp.HIGHEST);
        FloatVector k = clamped.mul(FastExp.LOG2E).add(FastExp.ROUND).sub(FastExp.ROUND);
        FloatVector r = k.fma(FloatVector.broadcast(species, -FastExp.LN2_HI), clamped);
        r = k.fma(FloatVector.broadcast(species, -FastExp.LN2_LO), r);
        FloatVector p = r.fma(FastExp.P0, FastExp.P1);
        p = p.fma(r, FloatVector.broadcast(species, FastExp.P2));
        p = p.fma(r, FloatVector.broadcast(species, FastExp.P3));
        p = p.fma(r, FloatVector.broadcast(species, FastExp.P4));
        p = p.fma(r, FloatVector.broadcast(species, FastExp.P5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector ki = (IntVector) k.convert(VectorOperators.F2I, 0);
        IntVector half = ki.lanewise(VectorOperators.ASHR, 1);
        FloatVector low = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector high = ki.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(low).mul(high);
    }
}

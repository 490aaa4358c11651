package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.lacuna.runtime.data.DType;

/**
 * {@link HalfConversions} with the Vector API: the same bits, by integer manipulation in registers (the incubator
 * has no F16 conversion). Uses jdk.incubator.vector: load only where the module is present.
 */
public final class VectorHalfConversions {
    static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> INTS = FLOATS.withLanes(int.class);
    /** As many 16-bit lanes as FLOATS has, in half the bits. */
    static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class,
            VectorShape.forBitSize(FLOATS.vectorBitSize() / 2));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorHalfConversions() {
    }

    public static void widen(MemorySegment src, long byteOffset, DType dtype, float[] dst, int dstOffset, int count) {
        if (dtype == DType.F32) {
            HalfConversions.widen(src, byteOffset, dtype, dst, dstOffset, count);
            return;
        }
        int step = FLOATS.length();
        int i = 0;
        for (int end = FLOATS.loopBound(count); i < end; i += step) {
            IntVector bits = ((IntVector) ShortVector.fromMemorySegment(SHORTS, src, byteOffset + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INTS, 0)).and(0xFFFF);
            IntVector widened = dtype == DType.F16 ? f16ToF32Bits(bits) : bits.lanewise(VectorOperators.LSHL, 16);
            widened.reinterpretAsFloats().intoArray(dst, dstOffset + i);
        }
        HalfConversions.widen(src, byteOffset + 2L * i, dtype, dst, dstOffset + i, count - i);
    }

    public static void narrow(float[] src, int srcOffset, int count, MemorySegment dst, long byteOffset, DType dtype) {
        if (dtype == DType.F32) {
            HalfConversions.narrow(src, srcOffset, count, dst, byteOffset, dtype);
            return;
        }
        int step = FLOATS.length();
        int i = 0;
        for (int end = FLOATS.loopBound(count); i < end; i += step) {
            FloatVector values = FloatVector.fromArray(FLOATS, src, srcOffset + i);
            VectorMask<Float> nan = values.test(VectorOperators.IS_NAN);
            IntVector bits = values.reinterpretAsInts();
            IntVector narrowed;
            if (dtype == DType.F16) {
                if (nan.anyTrue()) {
                    // NaN payloads follow Float.floatToFloat16's mapping; rare enough to take the scalar path.
                    HalfConversions.narrow(src, srcOffset + i, step, dst, byteOffset + 2L * i, dtype);
                    continue;
                }
                narrowed = f32ToF16Bits(bits);
            } else {
                IntVector lsb = bits.lanewise(VectorOperators.LSHR, 16).and(1);
                IntVector rounded = bits.add(0x7FFF).add(lsb).lanewise(VectorOperators.LSHR, 16);
                IntVector quiet = bits.lanewise(VectorOperators.LSHR, 16).or(0x0040);
                narrowed = rounded.blend(quiet, nan.cast(INTS));
            }
            ((ShortVector) narrowed.convertShape(VectorOperators.I2S, SHORTS, 0)).intoMemorySegment(dst,
                    byteOffset + 2L * i, ORDER);
        }
        HalfConversions.narrow(src, srcOffset + i, count - i, dst, byteOffset + 2L * i, dtype);
    }

    /** F16 bits (zero-extended) to F32 bits, exact for every input, NaNs as Float.float16ToFloat makes them. */
    static IntVector f16ToF32Bits(IntVector h) {
        IntVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector exponent = magnitude.and(0x7C00 << 13);
        IntVector normal = magnitude.add((127 - 15) << 23);
        // Inf and NaN: the exponent becomes all ones; a NaN is made quiet, as Float.float16ToFloat does.
        IntVector special = normal.add((128 - 16) << 23);
        special = special.blend(special.or(0x0040_0000), magnitude.and(0x007F_E000).compare(VectorOperators.NE, 0));
        // Zero and subnormals: one more exponent step, then subtract 2^-14 as a float to renormalise.
        FloatVector subnormal = normal.add(1 << 23).reinterpretAsFloats().sub(Float.intBitsToFloat(113 << 23));
        IntVector result = normal
                .blend(special, exponent.compare(VectorOperators.EQ, 0x7C00 << 13))
                .blend(subnormal.reinterpretAsInts(), exponent.compare(VectorOperators.EQ, 0));
        return result.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16));
    }

    /** F32 bits of non-NaN values to F16 bits, rounded to nearest even (overflow to infinity, subnormals exact). */
    static IntVector f32ToF16Bits(IntVector bits) {
        IntVector sign = bits.and(0x8000_0000).lanewise(VectorOperators.LSHR, 16);
        IntVector magnitude = bits.and(0x7FFF_FFFF);
        // Subnormal results: adding 0.5 aligns the 10 mantissa bits at the bottom; the FPU rounds to nearest even.
        float denormMagic = Float.intBitsToFloat(((127 - 15) + (23 - 10) + 1) << 23);
        IntVector subnormal = magnitude.reinterpretAsFloats().add(denormMagic).reinterpretAsInts()
                .sub(Float.floatToRawIntBits(denormMagic));
        IntVector odd = magnitude.lanewise(VectorOperators.LSHR, 13).and(1);
        IntVector normal = magnitude.add(((15 - 127) << 23) + 0xFFF).add(odd).lanewise(VectorOperators.LSHR, 13);
        IntVector result = normal
                .blend(subnormal, magnitude.compare(VectorOperators.LT, 113 << 23))
                .blend(0x7C00, magnitude.compare(VectorOperators.GE, (127 + 16) << 23));
        return result.or(sign);
    }
}

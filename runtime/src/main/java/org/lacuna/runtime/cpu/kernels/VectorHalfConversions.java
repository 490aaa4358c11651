package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;

/**
 * {@link HalfConversions}, faster: the same bits. F16 through the JDK's conversions in plain loops, which C2 turns
 * into the CPU's vector half-precision conversions (the incubator has no F16 conversion of its own); BF16 narrowing by
 * integer manipulation in vector lanes. Uses jdk.incubator.vector: load only where the module is present.
 */
public final class VectorHalfConversions {
    static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> INTS = FLOATS.withLanes(int.class);
    /** As many 16-bit lanes as FLOATS has, in half the bits. */
    static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class,
            VectorShape.forBitSize(FLOATS.vectorBitSize() / 2));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfShort BITS = ValueLayout.JAVA_SHORT_UNALIGNED;
    /** 16-bit values staged per block: 4 KiB, in L1 beside the floats they become. */
    private static final int STAGED_BLOCK = 2048;
    /**
     * Runs shorter than this (attention's rows of a head or a few: 32-384 values) are converted in vector lanes by
     * integer operations: staging them costs a thread-local lookup, a copy and a vectorised loop's set-up per row.
     * The cut-off itself is not measured: a whole-run A/B of attention read 6-12% slower with every run staged (ad
     * hoc, noisy), and 128 measured within noise of 512 for the 2:4 packing, which now widens staged regardless.
     */
    private static final int SHORT_RUN = 512;
    private static final ThreadLocal<short[]> STAGED = ThreadLocal.withInitial(() -> new short[STAGED_BLOCK]);

    private VectorHalfConversions() {
    }

    /**
     * {@code count} values of {@code dtype} at {@code byteOffset} of {@code src} widened into {@code dst}. F16 and BF16
     * are copied a block at a time into a per-thread {@code short[]} and widened there by plain loops
     * ({@link Float#float16ToFloat}, a shift), which C2 vectorises with the CPU's half-precision conversion: the same
     * bits as {@link HalfFloats}, in about half the time of widening by integer operations in vector lanes (8.6
     * against 17.8 µs for a 128 × 768 F16 activation on Zen 4; ad hoc, one JVM, interleaved, medians of 1500).
     */
    public static void widen(MemorySegment src, long byteOffset, DType dtype, float[] dst, int dstOffset, int count) {
        if (dtype != DType.F32 && count < SHORT_RUN) {
            widenInLanes(src, byteOffset, dtype, dst, dstOffset, count);
        } else {
            widenStaged(src, byteOffset, dtype, dst, dstOffset, count);
        }
    }

    /**
     * {@link #widen} staged whatever the run's length: for a caller whose short runs come many in a row on one thread,
     * as the sparse packing's {@code VectorSparseTiles#PACK_COLUMNS}-column runs do (one per token), where the staged
     * loop, its set-up included, beats the lanes. Packing F16 x on one thread took 336-339 against 368-378 µs at
     * 512 × 1536, 81-94 against 86-97 µs at 512 × 384 and 2344-2991 against 2655-3642 µs at 2048 × 1536 (20-30 at
     * 128 × 384 either way); the whole 2:4 call, 2 threads, was 0.6-4.8% faster at 512 tokens on both MiniLM FFN
     * shapes with bias (+ GELU) into F16 and 2.9-3.6% plain, and at 2048 tokens between 1.2% slower and 2.8% faster
     * (ad hoc, one JVM, interleaved: packing medians of 41, calls alternating, medians of 151-201).
     * {@link #SHORT_RUN} itself stays: attention's single rows keep the lanes, and the dense layer's 16-bit panels
     * ({@link #widenBits}) do not go through this choice.
     */
    static void widenStaged(MemorySegment src, long byteOffset, DType dtype, float[] dst, int dstOffset, int count) {
        if (dtype == DType.F32) {
            HalfConversions.widen(src, byteOffset, dtype, dst, dstOffset, count);
            return;
        }
        short[] bits = STAGED.get();
        for (int done = 0; done < count; done += STAGED_BLOCK) {
            int n = Math.min(STAGED_BLOCK, count - done);
            MemorySegment.copy(src, BITS, byteOffset + 2L * done, bits, 0, n);
            widenBits(bits, 0, dtype, dst, dstOffset + done, n);
        }
    }

    /**
     * {@code count} F16 or BF16 bit patterns from {@code bits[from]} widened into {@code dst[at]} by plain loops, which
     * C2 vectorises with the CPU's half-precision conversion: the same bits as {@link HalfFloats}. Shared by the
     * staged widening above and the GEMM's 16-bit weight panels ({@link VectorSgemm}).
     */
    static void widenBits(short[] bits, int from, DType dtype, float[] dst, int at, int count) {
        if (dtype == DType.F16) {
            for (int i = 0; i < count; i++) {
                dst[at + i] = Float.float16ToFloat(bits[from + i]);
            }
        } else {
            for (int i = 0; i < count; i++) {
                dst[at + i] = Float.intBitsToFloat(bits[from + i] << 16);
            }
        }
    }

    /**
     * {@code src[srcOffset, +count)} written as {@code dtype} at {@code byteOffset} of {@code dst}, rounded to nearest
     * even. F16 is narrowed by a plain loop ({@link Float#floatToFloat16}, which C2 vectorises) into a per-thread
     * {@code short[]} block and copied out: 10.6 against 20.3 µs for a 128 × 768 tile on Zen 4 (ad hoc, as
     * {@link #widen}); BF16 in vector lanes.
     */
    public static void narrow(float[] src, int srcOffset, int count, MemorySegment dst, long byteOffset, DType dtype) {
        if (dtype == DType.F32) {
            HalfConversions.narrow(src, srcOffset, count, dst, byteOffset, dtype);
            return;
        }
        if (dtype == DType.F16 && count >= SHORT_RUN) {
            short[] bits = STAGED.get();
            for (int done = 0; done < count; done += STAGED_BLOCK) {
                int n = Math.min(STAGED_BLOCK, count - done);
                int from = srcOffset + done;
                for (int i = 0; i < n; i++) {
                    bits[i] = Float.floatToFloat16(src[from + i]);
                }
                MemorySegment.copy(bits, 0, dst, BITS, byteOffset + 2L * done, n);
            }
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

    /** Widening in vector lanes by integer operations: what a short run takes ({@link #SHORT_RUN}). */
    private static void widenInLanes(MemorySegment src, long byteOffset, DType dtype, float[] dst, int dstOffset,
                                     int count) {
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

package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;

/**
 * Bulk widening of F32, F16 and BF16 storage into a float[] and narrowing back, rounding to nearest even exactly as
 * {@link HalfFloats} does. The scalar Java path; {@link VectorHalfConversions} gives the same bits with the Vector API.
 * The CPU backend's one family of bulk storage conversions: the elementwise ops and attention's layer norm and add
 * reach it through {@link RowKernels}; only {@link HalfMatrix} keeps its own loops, to fuse a scale or a transpose.
 */
public final class HalfConversions {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private HalfConversions() {
    }

    /** {@code dst[dstOffset, +count)} = the {@code count} elements of {@code dtype} at {@code byteOffset} of {@code src}. */
    public static void widen(MemorySegment src, long byteOffset, DType dtype, float[] dst, int dstOffset, int count) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, F32, byteOffset, dst, dstOffset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = HalfFloats.fromF16(src.get(U16, byteOffset + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = HalfFloats.fromBf16(src.get(U16, byteOffset + 2L * i));
                }
            }
            default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
        }
    }

    /** Writes {@code src[srcOffset, +count)} as {@code dtype} at {@code byteOffset} of {@code dst}, rounded to nearest even. */
    public static void narrow(float[] src, int srcOffset, int count, MemorySegment dst, long byteOffset, DType dtype) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, srcOffset, dst, F32, byteOffset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(U16, byteOffset + 2L * i, HalfFloats.toF16(src[srcOffset + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(U16, byteOffset + 2L * i, HalfFloats.toBf16(src[srcOffset + i]));
                }
            }
            default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
        }
    }
}

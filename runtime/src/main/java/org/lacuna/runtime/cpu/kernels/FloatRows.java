package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.DType;
import org.lacuna.runtime.HalfFloats;

/** Runs of F32, F16 or BF16 elements in a segment, read as fp32 and written back with one rounding. */
public final class FloatRows {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private FloatRows() {
    }

    /** {@code to[0 .. count) = elements [index, index + count)}; {@code bits} holds at least count shorts. */
    public static void read(MemorySegment from, long byteOffset, DType dtype, long index, int count, float[] to,
                            short[] bits) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(from, F32, byteOffset + 4 * index, to, 0, count);
            case F16 -> {
                MemorySegment.copy(from, U16, byteOffset + 2 * index, bits, 0, count);
                for (int i = 0; i < count; i++) {
                    to[i] = Float.float16ToFloat(bits[i]);
                }
            }
            case BF16 -> {
                MemorySegment.copy(from, U16, byteOffset + 2 * index, bits, 0, count);
                for (int i = 0; i < count; i++) {
                    to[i] = Float.intBitsToFloat(bits[i] << 16);
                }
            }
            default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
        }
    }

    /** Elements {@code [index, index + count) = from[0 .. count)}, rounded to the dtype. */
    public static void write(float[] from, int count, MemorySegment to, long byteOffset, DType dtype, long index,
                             short[] bits) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(from, 0, to, F32, byteOffset + 4 * index, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    bits[i] = Float.floatToFloat16(from[i]);
                }
                MemorySegment.copy(bits, 0, to, U16, byteOffset + 2 * index, count);
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    bits[i] = HalfFloats.toBf16(from[i]);
                }
                MemorySegment.copy(bits, 0, to, U16, byteOffset + 2 * index, count);
            }
            default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
        }
    }
}

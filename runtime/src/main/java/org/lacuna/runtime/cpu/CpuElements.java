package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;

/** Element access by dtype for the CPU backend: everything is read as float and written back rounded. */
final class CpuElements {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private CpuElements() {
    }

    static float read(MemorySegment segment, long byteOffset, DType dtype, long index) {
        return switch (dtype) {
            case F32 -> segment.get(F32, byteOffset + index * 4);
            case F16 -> HalfFloats.fromF16(segment.get(U16, byteOffset + index * 2));
            case BF16 -> HalfFloats.fromBf16(segment.get(U16, byteOffset + index * 2));
            default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
        };
    }

    static void write(MemorySegment segment, long byteOffset, DType dtype, long index, float value) {
        switch (dtype) {
            case F32 -> segment.set(F32, byteOffset + index * 4, value);
            case F16 -> segment.set(U16, byteOffset + index * 2, HalfFloats.toF16(value));
            case BF16 -> segment.set(U16, byteOffset + index * 2, HalfFloats.toBf16(value));
            default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
        }
    }
}

package org.lacuna.runtime.data;

import org.lacuna.runtime.error.InvalidInputException;

/** Conversions between float and the 16-bit float formats, rounding to nearest even as the GPU's cvt.rn does. */
public final class HalfFloats {
    private HalfFloats() {
    }

    public static short toF16(float value) {
        return Float.floatToFloat16(value);
    }

    public static float fromF16(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040); // keep sign and payload, force quiet
        }
        int lsb = (bits >>> 16) & 1;
        int rounded = bits + 0x7FFF + lsb;
        return (short) (rounded >>> 16);
    }

    public static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Rounds a float through the given 16-bit (or 32-bit) storage format. */
    public static float roundTo(DType dtype, float value) {
        return switch (dtype) {
            case F32 -> value;
            case F16 -> fromF16(toF16(value));
            case BF16 -> fromBf16(toBf16(value));
            default -> throw InvalidInputException.dtype("HalfFloats.roundTo", dtype + " is not a floating-point type");
        };
    }
}

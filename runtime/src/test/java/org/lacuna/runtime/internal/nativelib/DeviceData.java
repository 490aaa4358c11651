package org.lacuna.runtime.internal.nativelib;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.lacuna.runtime.data.DType;

/** Host-side encoding of test matrices as the device holds them (little-endian F32, F16, BF16, I32). */
public final class DeviceData {
    private DeviceData() {
    }

    /** {@code value} as {@code type} stores it (round to nearest even), back as a float. */
    public static float round(DType type, float value) {
        return switch (type) {
            case F32 -> value;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(value));
            case BF16 -> Float.intBitsToFloat(toBf16Bits(value) << 16);
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    /** A value in ±[0.125, 1), exactly representable in {@code type}: never zero, so every term counts. */
    public static float nonZero(Random random, DType type) {
        float magnitude = 0.125f + 0.875f * random.nextFloat();
        return round(type, random.nextBoolean() ? magnitude : -magnitude);
    }

    public static byte[] encode(DType type, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (float value : values) {
            switch (type) {
                case F32 -> bytes.putFloat(value);
                case F16 -> bytes.putShort(Float.floatToFloat16(value));
                case BF16 -> bytes.putShort((short) toBf16Bits(value));
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return bytes.array();
    }

    public static float[] decode(DType type, byte[] data) {
        ByteBuffer bytes = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[data.length / type.byteSize()];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (type) {
                case F32 -> bytes.getFloat();
                case F16 -> Float.float16ToFloat(bytes.getShort());
                case BF16 -> Float.intBitsToFloat((bytes.getShort() & 0xFFFF) << 16);
                default -> throw new IllegalArgumentException(type.toString());
            };
        }
        return values;
    }

    public static byte[] encodeInts(int[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int value : values) {
            bytes.putInt(value);
        }
        return bytes.array();
    }

    /** Relative rounding of one result stored as {@code type}, with a factor 2 of margin. */
    public static double outputRounding(DType type) {
        return switch (type) {
            case F32 -> 0x1p-22;
            case F16 -> 0x1p-10;
            case BF16 -> 0x1p-7;
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    private static int toBf16Bits(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return 0x7FC0;
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (bits + roundingBias) >>> 16;
    }
}

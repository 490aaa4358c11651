package org.lacuna.api.io;

import java.nio.ByteBuffer;
import java.util.Locale;

/** The scalar types point-cloud files store, with how to read each from bytes and from text. */
public enum ScalarType {
    INT8(1, true, Byte.MIN_VALUE, Byte.MAX_VALUE),
    UINT8(1, true, 0, 0xFF),
    INT16(2, true, Short.MIN_VALUE, Short.MAX_VALUE),
    UINT16(2, true, 0, 0xFFFF),
    INT32(4, true, Integer.MIN_VALUE, Integer.MAX_VALUE),
    UINT32(4, true, 0, 0xFFFF_FFFFL),
    INT64(8, true, Long.MIN_VALUE, Long.MAX_VALUE),
    UINT64(8, true, 0, -1),
    FLOAT32(4, false, 0, 0),
    FLOAT64(8, false, 0, 0);

    private final int byteSize;
    private final boolean integer;
    private final long min;
    private final long max;

    ScalarType(int byteSize, boolean integer, long min, long max) {
        this.byteSize = byteSize;
        this.integer = integer;
        this.min = min;
        this.max = max;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isInteger() {
        return integer;
    }

    /** The value at {@code offset} of {@code buffer} (in the buffer's byte order), widened to double. */
    public double read(ByteBuffer buffer, int offset) {
        return switch (this) {
            case UINT64 -> unsignedToDouble(buffer.getLong(offset));
            case FLOAT32 -> buffer.getFloat(offset);
            case FLOAT64 -> buffer.getDouble(offset);
            default -> readLong(buffer, offset); // every other integer fits a long exactly
        };
    }

    /** The integer at {@code offset}; for unsigned 64-bit values above {@code Long.MAX_VALUE} the raw bits. */
    public long readLong(ByteBuffer buffer, int offset) {
        return switch (this) {
            case INT8 -> buffer.get(offset);
            case UINT8 -> buffer.get(offset) & 0xFF;
            case INT16 -> buffer.getShort(offset);
            case UINT16 -> buffer.getShort(offset) & 0xFFFF;
            case INT32 -> buffer.getInt(offset);
            case UINT32 -> buffer.getInt(offset) & 0xFFFF_FFFFL;
            case INT64, UINT64 -> buffer.getLong(offset);
            case FLOAT32, FLOAT64 -> throw new IllegalStateException(this + " is not an integer type");
        };
    }

    /**
     * The value written as text: integers in decimal within the type's range, floats in Java or C notation
     * including {@code nan}, {@code inf} and {@code -inf} in any case.
     *
     * @throws NumberFormatException with a message fit for the caller's error
     */
    public double parse(String token) {
        if (!integer) {
            double value = parseFloating(token);
            // Float.parseFloat rounds once, straight to float; rounding through double could differ in the last bit.
            return this == FLOAT32 && Double.isFinite(value) ? Float.parseFloat(token) : value;
        }
        long value;
        if (this == UINT64) {
            value = Long.parseUnsignedLong(token.startsWith("+") ? token.substring(1) : token);
            return unsignedToDouble(value);
        }
        value = Long.parseLong(token);
        if (value < min || value > max) {
            throw new NumberFormatException("'" + token + "' does not fit " + name().toLowerCase(Locale.ROOT));
        }
        return value;
    }

    private static double parseFloating(String token) {
        String t = token.toLowerCase(Locale.ROOT);
        String unsigned = t.startsWith("-") || t.startsWith("+") ? t.substring(1) : t;
        boolean negative = t.startsWith("-");
        if (unsigned.equals("nan") || unsigned.startsWith("nan(")) {
            return Double.NaN;
        }
        if (unsigned.equals("inf") || unsigned.equals("infinity")) {
            return negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        // Double.parseDouble also accepts hexadecimal floats and trailing 'f'/'d', which no format writes; refuse
        // them so a garbled token is an error rather than a number.
        char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        if (!(Character.isDigit(last) || last == '.') || t.contains("x")) {
            throw new NumberFormatException("'" + token + "' is not a number");
        }
        return Double.parseDouble(t);
    }

    private static double unsignedToDouble(long bits) {
        // Halve with the low bit folded in (round to odd), so doubling rounds like a direct conversion would.
        return bits >= 0 ? bits : ((bits >>> 1) | (bits & 1)) * 2.0;
    }
}

package org.lacuna.runtime.cpu.kernels;

import org.lacuna.runtime.data.HalfFloats;

/**
 * Conversions between one row's 16-bit elements, as {@link HalfMatrix#read} copies them out, and fp32 scratch: the
 * scalar attention tile math's, plain loops with the same bits as {@link HalfFloats} element by element. The Vector
 * API form reads and writes the rows in place through {@link VectorHalfConversions} instead: attention's runs are
 * one to twelve heads of 32, too short for C2's vectorised main loops.
 */
final class HalfRows {
    private HalfRows() {
    }

    /** {@code to[at + d] = scale · bits[from + d]} for {@code d < count}. */
    static void widen(short[] bits, int from, boolean bf16, float scale, float[] to, int at, int count) {
        if (bf16) {
            for (int d = 0; d < count; d++) {
                to[at + d] = HalfFloats.fromBf16(bits[from + d]) * scale;
            }
        } else {
            for (int d = 0; d < count; d++) {
                to[at + d] = HalfFloats.fromF16(bits[from + d]) * scale;
            }
        }
    }

    /** One element: {@code bits} as F16 or BF16. */
    static float widen(short bits, boolean bf16) {
        return bf16 ? HalfFloats.fromBf16(bits) : HalfFloats.fromF16(bits);
    }

    /** {@code bits[to + d] = round(from[at + d])} for {@code d < count}, one rounding to the 16-bit type. */
    static void narrow(float[] from, int at, boolean bf16, short[] bits, int to, int count) {
        if (bf16) {
            for (int d = 0; d < count; d++) {
                bits[to + d] = HalfFloats.toBf16(from[at + d]);
            }
        } else {
            for (int d = 0; d < count; d++) {
                bits[to + d] = HalfFloats.toF16(from[at + d]);
            }
        }
    }
}

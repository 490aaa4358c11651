package org.lacuna.runtime.cpu.kernels;

import org.lacuna.runtime.data.HalfFloats;

/**
 * Conversions between one row's 16-bit elements, as {@link HalfMatrix#read} copies them out, and fp32 scratch: plain
 * loops over arrays, left to C2 to vectorise (not timed against {@link VectorHalfConversions} on their own: the
 * head-group change they came with was measured as a whole), and the same bits as {@link HalfFloats} element by element, as they are written with it.
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

    /** {@code to[at + d] = bits[from + d]} for {@code d < count}, unscaled. */
    static void widen(short[] bits, int from, boolean bf16, float[] to, int at, int count) {
        if (bf16) {
            for (int d = 0; d < count; d++) {
                to[at + d] = HalfFloats.fromBf16(bits[from + d]);
            }
        } else {
            for (int d = 0; d < count; d++) {
                to[at + d] = HalfFloats.fromF16(bits[from + d]);
            }
        }
    }

    /** {@code bits[to + d] = round(from[at + d] · scale)} for {@code d < count}, one rounding to the 16-bit type. */
    static void narrow(float[] from, int at, float scale, boolean bf16, short[] bits, int to, int count) {
        if (bf16) {
            for (int d = 0; d < count; d++) {
                bits[to + d] = HalfFloats.toBf16(from[at + d] * scale);
            }
        } else {
            for (int d = 0; d < count; d++) {
                bits[to + d] = HalfFloats.toF16(from[at + d] * scale);
            }
        }
    }
}

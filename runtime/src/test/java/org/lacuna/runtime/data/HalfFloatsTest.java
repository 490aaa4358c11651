package org.lacuna.runtime.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HalfFloatsTest {
    @Test
    void bf16RoundsToNearestEven() {
        assertEquals(1.0f, HalfFloats.fromBf16(HalfFloats.toBf16(1.0f)));
        // 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
        assertEquals(1.0f, HalfFloats.fromBf16(HalfFloats.toBf16(1.0f + 0x1p-8f)));
        // 1 + 3*2^-8 is halfway between 1+2^-7 and 1+2^-6: ties go to even (1 + 2^-6).
        assertEquals(1.0f + 0x1p-6f, HalfFloats.fromBf16(HalfFloats.toBf16(1.0f + 3 * 0x1p-8f)));
        assertEquals(1.0f + 0x1p-7f, HalfFloats.fromBf16(HalfFloats.toBf16(1.0f + 0x1p-8f + 0x1p-12f)));
        assertTrue(Float.isNaN(HalfFloats.fromBf16(HalfFloats.toBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.fromBf16(HalfFloats.toBf16(Float.POSITIVE_INFINITY)));
        assertEquals(-2.5f, HalfFloats.fromBf16(HalfFloats.toBf16(-2.5f)));
    }

    @Test
    void f16RoundTripAndOverflow() {
        assertEquals(0.333251953125f, HalfFloats.roundTo(DType.F16, 1f / 3));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.roundTo(DType.F16, 70000f));
        assertEquals(65504f, HalfFloats.roundTo(DType.F16, 65504f));
    }
}

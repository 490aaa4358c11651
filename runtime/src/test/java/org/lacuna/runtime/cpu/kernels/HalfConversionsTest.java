package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;

/**
 * Both conversion paths against {@link HalfFloats}, bit for bit: widening every one of the 65536 16-bit patterns,
 * narrowing every float near the F16 and BF16 rounding edges plus random bit patterns (NaNs included).
 */
class HalfConversionsTest {
    /** A run shorter than VectorHalfConversions' staged threshold, and not a whole number of vectors. */
    private static final int SHORT = 37;

    @Test
    void wideningEveryPatternMatchesHalfFloats() {
        try (Arena arena = Arena.ofConfined()) {
            // Every pattern and five more (not a whole number of the staged blocks), from an odd short's offset
            int count = (1 << 16) + 5;
            MemorySegment all = arena.allocate(2L * count + 2);
            for (int i = 0; i < count; i++) {
                all.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2 + 2L * i, (short) i);
            }
            for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
                float[] scalar = new float[count + 3];
                float[] vector = new float[count + 3];
                HalfConversions.widen(all, 2, dtype, scalar, 3, count);
                VectorHalfConversions.widen(all, 2, dtype, vector, 3, count);
                float[] runs = new float[count + 3]; // short runs (attention's rows) take the vector-lane path
                for (int start = 0; start < count; start += SHORT) {
                    VectorHalfConversions.widen(all, 2 + 2L * start, dtype, runs, 3 + start, Math.min(SHORT,
                            count - start));
                }
                for (int i = 0; i < count; i++) {
                    short bits = (short) i;
                    float want = dtype == DType.F16 ? HalfFloats.fromF16(bits) : HalfFloats.fromBf16(bits);
                    int expected = Float.floatToRawIntBits(want);
                    assertEquals(expected, Float.floatToRawIntBits(scalar[3 + i]), dtype + " scalar 0x" + Integer.toHexString(i));
                    assertEquals(expected, Float.floatToRawIntBits(vector[3 + i]), dtype + " vector 0x" + Integer.toHexString(i));
                    assertEquals(expected, Float.floatToRawIntBits(runs[3 + i]), dtype + " runs 0x" + Integer.toHexString(i));
                }
            }
        }
    }

    @Test
    void narrowingRoundsToNearestEvenExactlyAsHalfFloats() {
        SplittableRandom random = new SplittableRandom(11);
        int count = 1 << 18;
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            int bits = switch (i % 4) {
                case 0 -> random.nextInt();                                          // anything, NaNs included
                case 1 -> (random.nextInt(0x3300_0000, 0x4780_1000)) | (random.nextBoolean() ? 0x8000_0000 : 0);
                case 2 -> (random.nextInt(1 << 16) << 13) + random.nextInt(-2, 3) + 0x3800_0000; // F16 ties
                default -> (random.nextInt() & 0xFFFF_0000) | (random.nextBoolean() ? 0x8000 : random.nextInt(0x10000));
            };
            values[i] = Float.intBitsToFloat(bits);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scalar = arena.allocate(2L * count + 2);
            MemorySegment vector = arena.allocate(2L * count + 2);
            for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
                // Offset by one element so that neither path relies on alignment; odd count so a tail remains.
                HalfConversions.narrow(values, 1, count - 1, scalar, 2, dtype);
                VectorHalfConversions.narrow(values, 1, count - 1, vector, 2, dtype);
                // and in short runs (attention's rows), which take the vector-lane path
                MemorySegment runs = arena.allocate(2L * count + 2);
                for (int start = 1; start < count; start += SHORT) {
                    VectorHalfConversions.narrow(values, start, Math.min(SHORT, count - start), runs, 2L * start, dtype);
                }
                for (int i = 1; i < count; i++) {
                    short expected = dtype == DType.F16 ? HalfFloats.toF16(values[i]) : HalfFloats.toBf16(values[i]);
                    String what = dtype + " of 0x" + Integer.toHexString(Float.floatToRawIntBits(values[i]));
                    assertEquals(expected, scalar.getAtIndex(ValueLayout.JAVA_SHORT, i), "scalar " + what);
                    assertEquals(expected, vector.getAtIndex(ValueLayout.JAVA_SHORT, i), "vector " + what);
                    assertEquals(expected, runs.getAtIndex(ValueLayout.JAVA_SHORT, i), "short runs " + what);
                }
            }
        }
    }
}

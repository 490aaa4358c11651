package org.lacuna.runtime.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;

class TwoFourWeightsTest {
    /** The six ordered pairs, in the order of their table in the PTX ISA, with their nibbles. */
    private static final int[][] PAIRS = {{0, 1, 0x4}, {0, 2, 0x8}, {0, 3, 0xC}, {1, 2, 0x9}, {1, 3, 0xD}, {2, 3, 0xE}};

    @ParameterizedTest
    @CsvSource({"0, 1, 0x4", "0, 2, 0x8", "0, 3, 0xC", "1, 2, 0x9", "1, 3, 0xD", "2, 3, 0xE"})
    void eachKeptPairIsStoredWithItsNibble(int i0, int i1, String nibbleHex) {
        float[] w = new float[4];
        w[i0] = 1.5f;
        w[i1] = -2.25f;
        TwoFourWeights compressed = TwoFourWeights.compress(w, 1, 4, DType.F16);
        assertEquals(Integer.decode(nibbleHex), compressed.nibbleAt(0, 0));
        short[] values = compressed.values();
        assertEquals(HalfFloats.toF16(1.5f), values[0]);
        assertEquals(HalfFloats.toF16(-2.25f), values[1]);
        assertArrayEquals(w, compressed.decompress());
    }

    @Test
    void allSixPairsInOneRowRoundTripInBothDtypes() {
        float[] w = new float[2 * 24];
        for (int row = 0; row < 2; row++) {
            for (int group = 0; group < PAIRS.length; group++) {
                int[] pair = PAIRS[(group + row) % PAIRS.length];
                w[row * 24 + 4 * group + pair[0]] = group + 1.25f;
                w[row * 24 + 4 * group + pair[1]] = -(group + 2.5f) * (row + 1);
            }
        }
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            TwoFourWeights compressed = TwoFourWeights.compress(w, 2, 24, dtype);
            for (int row = 0; row < 2; row++) {
                for (int group = 0; group < PAIRS.length; group++) {
                    assertEquals(PAIRS[(group + row) % PAIRS.length][2], compressed.nibbleAt(row, group));
                }
            }
            assertArrayEquals(w, compressed.decompress(), dtype.toString());
        }
    }

    @ParameterizedTest
    @CsvSource({
        "0, 0, 0, 0, 0x4, 0, 0",
        "5, 0, 0, 0, 0x4, 5, 0",
        "0, 2, 0, 0, 0x4, 0, 2",
        "0, 0, 7, 0, 0x8, 0, 7",
        "0, 0, 0, -3, 0xC, 0, -3",
    })
    void groupsWithFewerThanTwoNonZerosArePaddedWithZeroPositions(float a, float b, float c, float d,
            String nibbleHex, float first, float second) {
        float[] w = {a, b, c, d};
        TwoFourWeights compressed = TwoFourWeights.compress(w, 1, 4, DType.BF16);
        assertEquals(Integer.decode(nibbleHex), compressed.nibbleAt(0, 0));
        short[] values = compressed.values();
        assertEquals(HalfFloats.toBf16(first), values[0]);
        assertEquals(HalfFloats.toBf16(second), values[1]);
        assertArrayEquals(w, compressed.decompress());
    }

    @Test
    void handBuilt32x32MetadataHasTheExpectedLaneWords() {
        // Every row of an 8-row band shares a pattern; the band shifts which pair each group uses, so the low and
        // high halves of a word (rows r and r + 8) differ, and so do the two 16-column halves of the 32 columns.
        float[] w = new float[32 * 32];
        for (int row = 0; row < 32; row++) {
            for (int group = 0; group < 8; group++) {
                int[] pair = PAIRS[(group + row / 8) % PAIRS.length];
                w[row * 32 + 4 * group + pair[0]] = 1f;
                w[row * 32 + 4 * group + pair[1]] = 2f;
            }
        }
        int[] metadata = TwoFourWeights.compress(w, 32, 32, DType.F16).metadata();
        // Lane t of group 0: t = 0 rows 0/8 columns 0..15, t = 1 rows 0/8 columns 16..31, t = 2 rows 16/24 columns
        // 0..15, t = 3 rows 16/24 columns 16..31. Nibbles go low to high: 4=(0,1) 8=(0,2) C=(0,3) 9=(1,2) D=(1,3)
        // E=(2,3).
        int[] expectedQuad = {0xD9C89C84, 0xC84E84ED, 0x4ED9ED9C, 0xD9C89C84};
        for (int lane = 0; lane < 32; lane++) {
            assertEquals(expectedQuad[lane & 3], metadata[lane], "lane " + lane);
        }
    }

    @Test
    void metadataWordsMatchTheLaneFormulaBitByBit() {
        // An irregular pattern, different for every (row, group), over two row groups and two k-blocks.
        int out = 64;
        int in = 64;
        float[] w = new float[out * in];
        int[][] pairIndex = new int[out][in / 4];
        for (int row = 0; row < out; row++) {
            for (int group = 0; group < in / 4; group++) {
                pairIndex[row][group] = (row * 7 + group * 5 + row / 3) % PAIRS.length;
                int[] pair = PAIRS[pairIndex[row][group]];
                w[row * in + 4 * group + pair[0]] = row + 1f;
                w[row * in + 4 * group + pair[1]] = -(group + 1f);
            }
        }
        TwoFourWeights compressed = TwoFourWeights.compress(w, out, in, DType.F16);
        int[] metadata = compressed.metadata();
        int paddedOut = compressed.paddedOut();
        assertEquals(128, paddedOut);
        for (int kBlock = 0; kBlock < 2; kBlock++) {
            for (int rowGroup = 0; rowGroup < paddedOut / 32; rowGroup++) {
                for (int lane = 0; lane < 32; lane++) {
                    int word = metadata[(kBlock * (paddedOut / 32) + rowGroup) * 32 + lane];
                    for (int bit = 0; bit < 32; bit++) {
                        // Bit b: half b / 16 picks row r or r + 8, (b % 16) / 4 the group within the 16 columns.
                        int row = 32 * rowGroup + (lane >> 2) + 16 * ((lane & 3) >> 1) + 8 * (bit / 16);
                        int group = 8 * kBlock + 4 * (lane & 1) + (bit % 16) / 4;
                        int nibble = row < out ? PAIRS[pairIndex[row][group]][2] : 0x4;
                        assertEquals((nibble >> (bit % 4)) & 1, (word >>> bit) & 1,
                                "k-block " + kBlock + ", row group " + rowGroup + ", lane " + lane + ", bit " + bit);
                    }
                }
            }
        }
        assertArrayEquals(w, compressed.decompress());
    }

    @Test
    void raggedShapesArePaddedAndPaddingIsZero() {
        // out, in, paddedOut, paddedIn
        int[][] shapes = {
            {1, 1, 128, 64}, {3, 5, 128, 64}, {37, 71, 128, 128}, {129, 130, 256, 192}, {128, 64, 128, 64},
        };
        for (int[] shape : shapes) {
            int out = shape[0];
            int in = shape[1];
            float[] w = TwoFourPruning.prune(ramp(out, in), out, in);
            TwoFourWeights compressed = TwoFourWeights.compress(w, out, in, DType.F16);
            String label = out + "x" + in;
            assertEquals(shape[2], compressed.paddedOut(), label);
            assertEquals(shape[3], compressed.paddedIn(), label);
            assertEquals(compressed.paddedOut() * compressed.paddedIn() / 2, compressed.values().length, label);
            assertEquals(compressed.paddedIn() / 32 * compressed.paddedOut() / 32 * 32, compressed.metadata().length);

            short[] values = compressed.values();
            int compressedColumns = compressed.paddedIn() / 2;
            for (int row = 0; row < compressed.paddedOut(); row++) {
                for (int column = 0; column < compressedColumns; column++) {
                    // Compressed column c belongs to group c / 2, dense columns 4 (c / 2)..+3: all padding past in.
                    if (row >= out || 4 * (column / 2) >= in) {
                        assertEquals(0, values[row * compressedColumns + column], label + " " + row + "," + column);
                        assertEquals(0x4, compressed.nibbleAt(row, column / 2), label);
                    }
                }
            }
            float[] padded = compressed.decompressPadded();
            int paddedIn = compressed.paddedIn();
            float[] expected = new float[compressed.paddedOut() * paddedIn];
            for (int row = 0; row < out; row++) {
                for (int column = 0; column < in; column++) {
                    expected[row * paddedIn + column] = HalfFloats.roundTo(DType.F16, w[row * in + column]);
                }
            }
            assertArrayEquals(expected, padded, label);
        }
    }

    @Test
    void nonConformantWeightIsRejectedWithTheGroup() {
        float[] w = {1f, 0f, 0f, 2f, 0f, 0f, 0f, 0f, /* */ 0f, 0f, 0f, 0f, 3f, 1f, 0f, 4f};
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> TwoFourWeights.compress(w, 2, 8, DType.F16));
        assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("row 1, columns 4..7"), e.getMessage());
        assertTrue(e.getMessage().contains("3 non-zeros"), e.getMessage());
        assertTrue(e.getMessage().contains("Linear.Options.pruned()"), e.getMessage());
    }

    @Test
    void rejectsOtherDtypesNaNAndF16Overflow() {
        float[] ok = {1f, 2f, 0f, 0f};
        assertEquals(ErrorCode.DTYPE_MISMATCH, assertThrows(InvalidInputException.class,
                () -> TwoFourWeights.compress(ok, 1, 4, DType.F32)).code());
        InvalidInputException nan = assertThrows(InvalidInputException.class,
                () -> TwoFourWeights.compress(new float[] {0f, 0f, 0f, 0f, 0f, Float.NaN, 0f, 0f}, 2, 4, DType.F16));
        assertEquals(ErrorCode.INVALID_ARGUMENT, nan.code());
        assertTrue(nan.getMessage().contains("row 1, column 1"), nan.getMessage());

        float[] large = {0f, 70000f, 0f, 1f};
        InvalidInputException overflow = assertThrows(InvalidInputException.class,
                () -> TwoFourWeights.compress(large, 1, 4, DType.F16));
        assertTrue(overflow.getMessage().contains("row 0, column 1"), overflow.getMessage());
        assertTrue(overflow.getMessage().contains("bf16"), overflow.getMessage());
        float[] inBf16 = TwoFourWeights.compress(large, 1, 4, DType.BF16).decompress();
        assertArrayEquals(new float[] {0f, 70144f, 0f, 1f}, inBf16);
    }

    @Test
    void valuesThatRoundToZeroStayAtTheirPositions() {
        float[] w = {0f, 1e-9f, 0f, 3f};
        TwoFourWeights compressed = TwoFourWeights.compress(w, 1, 4, DType.F16);
        assertEquals(0xD, compressed.nibbleAt(0, 0));
        assertArrayEquals(new float[] {0f, 0f, 0f, 3f}, compressed.decompress());
    }

    @Test
    void accessorsCopyAndSegmentsExposeTheSameBytes() {
        float[] w = TwoFourPruning.prune(ramp(40, 70), 40, 70);
        TwoFourWeights compressed = TwoFourWeights.compress(w, 40, 70, DType.BF16);
        assertEquals(40, compressed.out());
        assertEquals(70, compressed.in());
        assertEquals(DType.BF16, compressed.dtype());

        short[] values = compressed.values();
        values[0] = 12345;
        assertTrue(compressed.values()[0] != 12345);
        int[] metadata = compressed.metadata();
        metadata[0] = 0;
        assertTrue(compressed.metadata()[0] != 0);

        MemorySegment valuesView = compressed.valuesSegment();
        assertTrue(valuesView.isReadOnly());
        assertEquals(compressed.valuesByteSize(), valuesView.byteSize());
        assertArrayEquals(compressed.values(), valuesView.toArray(ValueLayout.JAVA_SHORT));
        assertArrayEquals(compressed.metadata(), compressed.metadataSegment().toArray(ValueLayout.JAVA_INT));

        ValueLayout.OfShort littleShort = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfInt littleInt = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        try (Arena arena = Arena.ofConfined()) {
            long offset = 3; // odd on purpose: uploads may pack both arrays into one buffer at any offset
            MemorySegment target = arena.allocate(offset + compressed.valuesByteSize() + compressed.metadataByteSize());
            compressed.writeValues(target, offset);
            compressed.writeMetadata(target, offset + compressed.valuesByteSize());
            MemorySegment writtenValues = target.asSlice(offset, compressed.valuesByteSize());
            MemorySegment writtenMetadata = target.asSlice(offset + compressed.valuesByteSize());
            assertArrayEquals(compressed.values(), writtenValues.toArray(littleShort));
            assertArrayEquals(compressed.metadata(), writtenMetadata.toArray(littleInt));
            int lowestByte = Byte.toUnsignedInt(writtenMetadata.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(compressed.metadata()[0] & 0xFF, lowestByte);
        }
    }

    /** A dense matrix with distinct magnitudes and mixed signs, so pruning has a unique answer. */
    private static float[] ramp(int out, int in) {
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = ((i * 37) % 101 - 50) / 8f + (i % 2 == 0 ? 0.01f : -0.01f);
        }
        return w;
    }
}

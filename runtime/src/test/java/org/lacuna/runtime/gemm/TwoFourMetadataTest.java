package org.lacuna.runtime.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;

class TwoFourMetadataTest {
    @ParameterizedTest
    @CsvSource({"0, 1, 0x4", "0, 2, 0x8", "0, 3, 0xC", "1, 2, 0x9", "1, 3, 0xD", "2, 3, 0xE"})
    void encodesAndDecodesEachOrderedPair(int i0, int i1, String expectedHex) {
        int nibble = TwoFourMetadata.nibble(i0, i1);
        assertEquals(Integer.decode(expectedHex), nibble);
        assertEquals(i0, TwoFourMetadata.firstIndex(nibble));
        assertEquals(i1, TwoFourMetadata.secondIndex(nibble));
        assertEquals(nibble, TwoFourWeights.nibble(i0, i1));
    }

    @Test
    void exactlySixNibblesAreValid() {
        List<Integer> valid = new ArrayList<>();
        for (int n = -1; n <= 0x1F; n++) {
            if (TwoFourMetadata.isValidNibble(n)) {
                valid.add(n);
            }
        }
        assertEquals(List.of(0x4, 0x8, 0x9, 0xC, 0xD, 0xE), valid);
    }

    @Test
    void rejectsUnorderedOrOutOfRangePairs() {
        for (int[] pair : new int[][] {{1, 0}, {2, 2}, {-1, 1}, {2, 4}, {3, 3}}) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> TwoFourMetadata.nibble(pair[0], pair[1]));
            assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
        }
    }

    @Test
    void wordIndexWalksLanesThenRowGroupsThenKBlocks() {
        int paddedOut = 256; // 8 row groups
        assertEquals(0, TwoFourMetadata.wordIndex(0, 0, 0, paddedOut));
        assertEquals(31, TwoFourMetadata.wordIndex(0, 0, 31, paddedOut));
        assertEquals(32 + 5, TwoFourMetadata.wordIndex(0, 1, 5, paddedOut));
        assertEquals(8 * 32 + 7 * 32 + 2, TwoFourMetadata.wordIndex(1, 7, 2, paddedOut));
        assertEquals(3 * 8 * 32, TwoFourMetadata.wordCount(paddedOut, 96));
    }
}

package org.lacuna.runtime.pointcloud;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;

class SparseCoordinatesTest {
    private static final int[] UNIT = {1, 1, 1};

    @Test
    void validRowsGiveTheirKeysInRowOrder() {
        int[] coordinates = {0, 1, 2, 3, 1, -4, 0, 7};
        long[] keys = SparseCoordinates.check("test", coordinates, UNIT);
        assertArrayEquals(new long[] {CoordinateKey.pack(0, 1, 2, 3), CoordinateKey.pack(1, -4, 0, 7)}, keys);
    }

    @Test
    void theFirstRepetitionIsNamedWithTheRowItRepeats() {
        int[] coordinates = {
            0, 5, 5, 5,
            0, 1, 1, 1,
            0, 2, 2, 2,
            0, 1, 1, 1, // first repetition: row 3 repeats row 1
            0, 5, 5, 5};
        var e = assertThrows(InvalidInputException.class, () -> SparseCoordinates.check("test", coordinates, UNIT));
        assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("row 3 repeats (0, 1, 1, 1)"), e.getMessage());
        assertTrue(e.getMessage().contains("of row 1"), e.getMessage());
    }

    @Test
    void coordinatesOffTheStrideGridOrOutOfRangeAreRejected() {
        var offGrid = assertThrows(InvalidInputException.class,
                () -> SparseCoordinates.check("test", new int[] {0, 2, 4, 6, 0, 2, 3, 6}, new int[] {2, 2, 2}));
        assertTrue(offGrid.getMessage().contains("row 1 [0, 2, 3, 6] is not on the grid"), offGrid.getMessage());
        var range = assertThrows(InvalidInputException.class,
                () -> SparseCoordinates.check("test", new int[] {0, 0, 0, 40000}, UNIT));
        assertTrue(range.getMessage().contains("row 0 [0, 0, 0, 40000]"), range.getMessage());
        assertEquals(ErrorCode.SHAPE_MISMATCH, assertThrows(InvalidInputException.class,
                () -> SparseCoordinates.check("test", new int[] {0, 1, 2}, UNIT)).code());
        assertThrows(InvalidInputException.class, () -> SparseCoordinates.checkTensorStride("test", new int[] {1, 0, 1}));
        assertThrows(InvalidInputException.class, () -> SparseCoordinates.checkTensorStride("test", new int[] {1, 1}));
    }
}

package org.lacuna.runtime.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;

class TwoFourPruningTest {
    @Test
    void keepsTheTwoLargestMagnitudesOfEachGroup() {
        float[] w = {
            0.1f, -4f, 3f, 0.5f, /* */ 7f, 0f, 0f, -8f,
            -1f, 2f, -3f, 4f, /*    */ 0f, 0f, 0f, 0f,
        };
        float[] expected = {
            0f, -4f, 3f, 0f, /* */ 7f, 0f, 0f, -8f,
            0f, 0f, -3f, 4f, /* */ 0f, 0f, 0f, 0f,
        };
        assertArrayEquals(expected, TwoFourPruning.prune(w, 2, 8));
    }

    @Test
    void equalMagnitudesKeepTheLowerColumns() {
        assertArrayEquals(new float[] {1f, 1f, 0f, 0f}, TwoFourPruning.prune(new float[] {1f, 1f, 1f, 1f}, 1, 4));
        assertArrayEquals(new float[] {-3f, 3f, 0f, 0f}, TwoFourPruning.prune(new float[] {-3f, 3f, 1f, 3f}, 1, 4));
        assertArrayEquals(new float[] {0f, 5f, -5f, 0f}, TwoFourPruning.prune(new float[] {2f, 5f, -5f, 5f}, 1, 4));
        assertArrayEquals(new float[] {-2f, 9f, 0f, 0f}, TwoFourPruning.prune(new float[] {-2f, 9f, 1f, 2f}, 1, 4));
    }

    @Test
    void trailingPartialGroupKeepsItsTwoLargest() {
        // in = 7: the last group is columns 4..6; in = 5: the last group is column 4 alone and must survive.
        float[] seven = {1f, 2f, 3f, 4f, -6f, 1f, 5f};
        assertArrayEquals(new float[] {0f, 0f, 3f, 4f, -6f, 0f, 5f}, TwoFourPruning.prune(seven, 1, 7));
        float[] five = {1f, 2f, 3f, 4f, -0.5f, 9f, 8f, 7f, 6f, 0.25f};
        assertArrayEquals(new float[] {0f, 0f, 3f, 4f, -0.5f, 9f, 8f, 0f, 0f, 0.25f}, TwoFourPruning.prune(five, 2, 5));
        assertArrayEquals(new float[] {3f, -2f}, TwoFourPruning.prune(new float[] {3f, -2f}, 1, 2));
    }

    @Test
    void leavesTheInputUntouchedAndConformant() {
        float[] w = {5f, 4f, 3f, 2f, 1f, 6f, 7f, 8f};
        float[] before = w.clone();
        float[] pruned = TwoFourPruning.prune(w, 2, 4);
        assertArrayEquals(before, w);
        assertTrue(TwoFourConformance.firstViolation(pruned, 2, 4).isEmpty());
        assertEquals(0.5, TwoFourConformance.density(pruned));
    }

    @Test
    void rejectsNaNNamingRowAndColumn() {
        float[] w = new float[3 * 6];
        w[2 * 6 + 5] = Float.NaN;
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> TwoFourPruning.prune(w, 3, 6));
        assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("row 2, column 5"), e.getMessage());
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    }

    @Test
    void rejectsInfinity() {
        float[] w = {0f, 1f, Float.NEGATIVE_INFINITY, 2f};
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> TwoFourPruning.prune(w, 1, 4));
        assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("row 0, column 2"), e.getMessage());
    }

    @Test
    void rejectsAnArrayThatDoesNotMatchTheShape() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> TwoFourPruning.prune(new float[10], 3, 4));
        assertEquals(ErrorCode.SHAPE_MISMATCH, e.code());
        assertEquals(ErrorCode.SHAPE_MISMATCH,
                assertThrows(InvalidInputException.class, () -> TwoFourPruning.prune(new float[0], 0, 4)).code());
    }
}

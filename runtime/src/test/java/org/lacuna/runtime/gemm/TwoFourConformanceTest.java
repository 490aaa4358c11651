package org.lacuna.runtime.gemm;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;

class TwoFourConformanceTest {
    /** 4 x 8: row 2 group 1 has 3 non-zeros, row 3 group 0 has 4; the row-major first is row 2. */
    private static final float[] TWO_VIOLATIONS = {
        1f, 0f, 2f, 0f, /*  */ 0f, 0f, 0f, 0f,
        0f, 0f, 0f, 0f, /*  */ 3f, 4f, 0f, 0f,
        5f, 6f, 0f, 0f, /*  */ 7f, 0f, -8f, 0.5f,
        1f, 2f, 3f, 4f, /*  */ 0f, 0f, 0f, 0f,
    };

    @Test
    void conformantWeightHasNoViolation() {
        float[] w = {1f, 0f, 0f, 2f, 0f, 0f, 0f, 0f, -3f, 4f, 0f, 0f};
        assertTrue(TwoFourConformance.firstViolation(w, 3, 4).isEmpty());
        assertDoesNotThrow(() -> TwoFourConformance.require(w, 3, 4));
        assertEquals(1.0, TwoFourConformance.conformance(w, 3, 4));
    }

    @Test
    void firstViolationIsTheFirstOffendingGroupInRowMajorOrder() {
        TwoFourConformance.Violation v = TwoFourConformance.firstViolation(TWO_VIOLATIONS, 4, 8).orElseThrow();
        assertEquals(new TwoFourConformance.Violation(2, 1, 3, List.of(7f, 0f, -8f, 0.5f)), v);
        assertEquals(4, v.firstColumn());
        assertEquals(7, v.lastColumn());
    }

    @Test
    void requireNamesTheGroupItsValuesAndTheFix() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> TwoFourConformance.require(TWO_VIOLATIONS, 4, 8));
        assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
        String message = e.getMessage();
        assertTrue(message.contains("row 2, columns 4..7"), message);
        assertTrue(message.contains("[7.0, 0.0, -8.0, 0.5]"), message);
        assertTrue(message.contains("3 non-zeros"), message);
        assertTrue(message.contains("2 of 8 groups"), message);
        assertTrue(message.contains("Linear.Options.pruned()"), message);
    }

    @Test
    void trailingPartialGroupIsCheckedWithItsRealColumns() {
        float[] w = {1f, 0f, 0f, 0f, 2f, 3f, 4f};
        TwoFourConformance.Violation v = TwoFourConformance.firstViolation(w, 1, 7).orElseThrow();
        assertEquals(new TwoFourConformance.Violation(0, 1, 3, List.of(2f, 3f, 4f)), v);
        String message = assertThrows(InvalidInputException.class, () -> TwoFourConformance.require(w, 1, 7))
                .getMessage();
        assertTrue(message.contains("row 0, columns 4..6"), message);
        assertTrue(TwoFourConformance.firstViolation(new float[] {1f, 2f, 0f, 0f, 4f, 5f}, 1, 6).isEmpty());
    }

    @Test
    void densityAndConformanceCountNonZerosAndGroups() {
        // 13 non-zeros of 32 entries; 8 groups, of which 2 violate.
        assertEquals(13.0 / 32, TwoFourConformance.density(TWO_VIOLATIONS));
        assertEquals(6.0 / 8, TwoFourConformance.conformance(TWO_VIOLATIONS, 4, 8));
        assertEquals(0.0, TwoFourConformance.density(new float[6]));
        assertEquals(1.0, TwoFourConformance.conformance(new float[6], 2, 3));
    }

    @Test
    void negativeZeroIsZero() {
        float[] w = {-0f, -0f, 1f, 2f};
        assertTrue(TwoFourConformance.firstViolation(w, 1, 4).isEmpty());
        assertEquals(0.5, TwoFourConformance.density(w));
    }

    @Test
    void pruningMakesTheStatisticsConformant() {
        float[] pruned = TwoFourPruning.prune(TWO_VIOLATIONS, 4, 8);
        assertEquals(1.0, TwoFourConformance.conformance(pruned, 4, 8));
        assertEquals(10.0 / 32, TwoFourConformance.density(pruned));
        assertFalse(TwoFourConformance.firstViolation(pruned, 4, 8).isPresent());
    }

    @Test
    void shapeMismatchIsReported() {
        assertEquals(ErrorCode.SHAPE_MISMATCH, assertThrows(InvalidInputException.class,
                () -> TwoFourConformance.conformance(new float[7], 2, 4)).code());
    }
}

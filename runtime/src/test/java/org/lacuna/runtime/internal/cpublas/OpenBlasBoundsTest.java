package org.lacuna.runtime.internal.cpublas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.InvalidInputException;

/** The critical downcall hands heap arrays to native code: every extent is checked in Java first. */
class OpenBlasBoundsTest {
    private final OpenBlas blas = OpenBlas.load();

    @Test
    void extentsOutsideTheArraysAreRefusedBeforeTheCall() {
        float[] a = new float[2 * 3];
        float[] b = new float[3 * 4];
        float[] c = new float[2 * 4];
        assertTrue(assertThrows(InvalidInputException.class,
                () -> blas.sgemm(2, 4, 3, a, 0, 2, b, 0, 4, false, c, 0, 4, false)).getMessage().contains("lda"));
        assertThrows(InvalidInputException.class, () -> blas.sgemm(2, 4, 3, a, 0, 3, b, 0, 3, false, c, 0, 4, false));
        assertThrows(InvalidInputException.class, () -> blas.sgemm(2, 4, 3, a, 0, 3, b, 0, 2, true, c, 0, 4, false));
        assertThrows(InvalidInputException.class, () -> blas.sgemm(2, 4, 3, a, 0, 3, b, 0, 4, false, c, 0, 3, false));
        InvalidInputException shortA = assertThrows(InvalidInputException.class,
                () -> blas.sgemm(2, 4, 3, a, 1, 3, b, 0, 4, false, c, 0, 4, false));
        assertTrue(shortA.getMessage().contains("A [2 x 3] at offset 1"), shortA.getMessage());
        assertThrows(InvalidInputException.class, () -> blas.sgemm(2, 4, 3, a, -1, 3, b, 0, 4, false, c, 0, 4, false));
        assertThrows(InvalidInputException.class,
                () -> blas.sgemm(2, 4, 3, a, 0, 3, b, 0, 4, false, c, 0, Integer.MAX_VALUE, false));
        assertThrows(InvalidInputException.class, () -> blas.sgemm(-1, 4, 3, a, 0, 3, b, 0, 4, false, c, 0, 4, false));
    }

    @Test
    void exactExtentsStillRun() {
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] bT = {1, 0, 0, 0, 1, 0};
        float[] c = new float[5];
        // C (2 x 2, at offset 1, rows 2 apart) = A (2 x 3) · B (2 x 3)ᵀ.
        blas.sgemm(2, 2, 3, a, 0, 3, bT, 0, 3, true, c, 1, 2, false);
        assertArrayEquals(new float[] {0, 1, 2, 4, 5}, c);
    }
}

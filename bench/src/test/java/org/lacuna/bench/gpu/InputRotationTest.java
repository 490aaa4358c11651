package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InputRotationTest {
    private static final long MIB = 1 << 20;
    private static final long TARGET = 256 * MIB;
    private static final long PLENTY = 80L << 30;

    @Test
    void smallSetsRotateEnoughCopiesToSpanTheTarget() {
        InputRotation rotation = InputRotation.plan(10 * MIB, TARGET, PLENTY);
        assertEquals(26, rotation.copies()); // ceil(256 / 10)
        assertTrue(rotation.workingSetBytes() >= TARGET);
        assertTrue(rotation.coversTarget());
    }

    @Test
    void aSetJustBelowTheTargetStillRotatesAtLeastFourCopies() {
        InputRotation rotation = InputRotation.plan(200 * MIB, TARGET, PLENTY);
        assertEquals(InputRotation.MIN_COPIES, rotation.copies());
    }

    @Test
    void aSetAsLargeAsTheTargetEvictsItselfAndIsNotCopied() {
        assertEquals(1, InputRotation.plan(TARGET, TARGET, PLENTY).copies());
        assertEquals(1, InputRotation.plan(4 * TARGET, TARGET, PLENTY).copies());
    }

    @Test
    void theMemoryCapLimitsCopiesAndTheRotationSaysItFellShort() {
        InputRotation rotation = InputRotation.plan(10 * MIB, TARGET, 50 * MIB);
        assertEquals(5, rotation.copies());
        assertFalse(rotation.coversTarget());
    }

    @Test
    void oneCopyIsAlwaysAllowedEvenPastTheCap() {
        assertEquals(1, InputRotation.plan(100 * MIB, TARGET, 10 * MIB).copies());
    }

    @Test
    void launchesWalkTheCopiesInOrderAndWrap() {
        InputRotation rotation = InputRotation.plan(64 * MIB, TARGET, PLENTY);
        assertEquals(4, rotation.copies());
        assertEquals(0, rotation.copyFor(0));
        assertEquals(3, rotation.copyFor(3));
        assertEquals(0, rotation.copyFor(4));
        assertEquals(1, rotation.copyFor(4_000_000_001L));
    }

    @Test
    void tinySetsGetManyCopies() {
        InputRotation rotation = InputRotation.plan(1024, TARGET, PLENTY);
        assertEquals(262_144, rotation.copies());
    }

    @Test
    void refusesEmptySets() {
        assertThrows(IllegalArgumentException.class, () -> InputRotation.plan(0, TARGET, PLENTY));
    }
}

package org.lacuna.runtime.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.testing.SimultaneousCalls;

class ClosedFlagTest {
    @Test
    void onlyTheFirstMarkCloses() {
        ClosedFlag flag = new ClosedFlag();
        assertFalse(flag.isClosed());
        assertTrue(flag.markClosed());
        assertTrue(flag.isClosed());
        assertFalse(flag.markClosed());
        assertFalse(flag.markClosed());
        assertTrue(flag.isClosed());
    }

    /** A plain check-then-set boolean in its place fails this within a few dozen rounds (tried, on two cores). */
    @Test
    void exactlyOneOfThreadsMarkingAtOnceClosesInEveryRound() throws Exception {
        int rounds = 5_000;
        ClosedFlag[] flags = new ClosedFlag[rounds];
        AtomicInteger[] winners = new AtomicInteger[rounds];
        for (int r = 0; r < rounds; r++) {
            flags[r] = new ClosedFlag();
            winners[r] = new AtomicInteger();
        }
        SimultaneousCalls.race(SimultaneousCalls.threads(), rounds, r -> {
            if (flags[r].markClosed()) {
                winners[r].incrementAndGet();
            }
        });
        for (int r = 0; r < rounds; r++) {
            assertEquals(1, winners[r].get(), "winners of round " + r);
            assertTrue(flags[r].isClosed());
        }
    }
}

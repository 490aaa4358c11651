package org.lacuna.runtime.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.Stream;
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
        ClosedFlag[] flags = Stream.generate(ClosedFlag::new).limit(rounds).toArray(ClosedFlag[]::new);
        AtomicIntegerArray winners = new AtomicIntegerArray(rounds);
        SimultaneousCalls.race(SimultaneousCalls.threads(), rounds, r -> {
            if (flags[r].markClosed()) {
                winners.incrementAndGet(r);
            }
        });
        for (int r = 0; r < rounds; r++) {
            assertEquals(1, winners.get(r), "winners of round " + r);
            assertTrue(flags[r].isClosed());
        }
    }
}

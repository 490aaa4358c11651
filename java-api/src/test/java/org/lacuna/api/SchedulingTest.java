package org.lacuna.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.layers.Linear;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.schedule.Decision;

/** Sessions of one JVM on one store file see each other's choices, so they choose alike. */
class SchedulingTest {
    @AfterEach
    void clear() {
        System.clearProperty("lacuna.tuningStore");
    }

    @Test
    void aStoreFileIsOpenedOncePerJvmAndMemoryStoresAreNeverShared(@TempDir Path dir) {
        System.setProperty("lacuna.tuningStore", dir.resolve("store.json").toString());
        assertSame(Scheduling.configuredStore(), Scheduling.configuredStore());
        var store = Scheduling.configuredStore();
        System.setProperty("lacuna.tuningStore", dir.resolve("other.json").toString());
        assertNotSame(store, Scheduling.configuredStore(), "another file, another store");
        System.setProperty("lacuna.tuningStore", "memory");
        assertNotSame(Scheduling.configuredStore(), Scheduling.configuredStore());
    }

    @Test
    void aSecondSessionTakesTheFirstSessionsChoice(@TempDir Path dir) {
        System.setProperty("lacuna.tuningStore", dir.resolve("store.json").toString());
        int out = 96;
        int in = 64;
        SplittableRandom random = new SplittableRandom(7);
        float[] w = new float[out * in];
        float[] x = new float[32 * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextDouble(-1, 1);
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        try (Session first = Lacuna.open("cpu", 0); Session second = Lacuna.open("cpu", 0)) {
            Decision made = decide(first, w, out, in, x);
            Decision taken = decide(second, w, out, in, x);
            assertEquals(made.chosen(), taken.chosen());
            // With one dense path (OpenBLAS not loaded) there is no choice to share: say so, do not pass silently.
            Assumptions.assumeTrue(made.source() != Decision.Source.ONLY_CANDIDATE,
                    "one candidate only, nothing stored: " + made.reason());
            assertEquals(Decision.Source.STORED, taken.source(),
                    "the second session reads the first one's choice: " + taken.reason());
        }
    }

    /** The layer's decision, once made: a live trial takes a few of its calls. */
    private static Decision decide(Session session, float[] w, int out, int in, float[] x) {
        try (Linear layer = Linear.create(session, w, out, in, null, Linear.Options.of(DType.F32));
             Tensor input = session.fromFloats(x, DType.F32, x.length / in, in)) {
            for (int call = 0; call < 100; call++) {
                layer.forward(input).close();
                Decision d = layer.decisions().values().iterator().next().getFirst();
                if (d.source() != Decision.Source.DECIDING) {
                    return d;
                }
            }
            throw new AssertionError("no decision after 100 calls");
        }
    }
}

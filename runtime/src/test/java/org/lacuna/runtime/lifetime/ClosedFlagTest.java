package org.lacuna.runtime.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

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

    @Test
    void exactlyOneOfManyRacingThreadsCloses() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 200; round++) {
                ClosedFlag flag = new ClosedFlag();
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Boolean>> marks = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    marks.add(pool.submit(() -> {
                        start.await();
                        return flag.markClosed();
                    }));
                }
                start.countDown();
                int firsts = 0;
                for (Future<Boolean> mark : marks) {
                    firsts += mark.get() ? 1 : 0;
                }
                assertEquals(1, firsts, "round " + round);
                assertTrue(flag.isClosed());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

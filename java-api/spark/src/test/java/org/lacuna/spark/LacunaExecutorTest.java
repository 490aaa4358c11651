package org.lacuna.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The executor's registry without Spark: threads asking at once for one model get one load, a different key its
 * own, and {@link LacunaExecutor#closeAll} (the plugin's shutdown) closes each model once and forgets it.
 */
class LacunaExecutorTest {
    /** A model that counts its closes. */
    private static final class Probe implements AutoCloseable {
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }

    @Test
    void concurrentTasksShareOneLoadAndShutdownClosesIt() throws Exception {
        ModelKey key = new ModelKey("probe", "concurrent", "", "cpu");
        ModelKey other = new ModelKey("probe", "other", "", "cpu");
        AtomicInteger loads = new AtomicInteger();
        Callable<SharedModel<Probe>> task = () -> LacunaExecutor.model(key, session -> {
            loads.incrementAndGet();
            sleep(); // a slow load, so the other threads arrive while it runs
            return new Probe();
        });
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<SharedModel<Probe>> seen = new ArrayList<>();
        try {
            List<Future<SharedModel<Probe>>> futures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                futures.add(pool.submit(task));
            }
            for (Future<SharedModel<Probe>> f : futures) {
                seen.add(f.get());
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(1, loads.get());
        assertEquals(1, LacunaExecutor.modelLoads(key));
        seen.forEach(s -> assertSame(seen.get(0), s));
        assertEquals("cpu", seen.get(0).backendName());

        SharedModel<Probe> second = LacunaExecutor.model(other, session -> new Probe());
        assertEquals(1, LacunaExecutor.modelLoads(other));
        assertTrue(LacunaExecutor.backends().stream().anyMatch(b -> b.startsWith("cpu")),
                LacunaExecutor.backends().toString());

        LacunaExecutor.closeAll();
        assertEquals(Integer.valueOf(1), seen.get(0).<Integer>call(p -> p.closes.get(), false), "closed once");
        assertEquals(Integer.valueOf(1), second.<Integer>call(p -> p.closes.get(), false));
        assertEquals(0, LacunaExecutor.modelLoads(key));
        assertTrue(LacunaExecutor.loadedModels().isEmpty());
        assertTrue(LacunaExecutor.backends().isEmpty(), "sessions closed too");
    }

    private static void sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.testing.SimultaneousCalls;

/** The worker pool: a failing chunk leaves no chunk running behind it, and its exception arrives unchanged. */
class CpuThreadsTest {
    @Test
    void forEachReturnsOnlyAfterEveryStartedChunkHasFinished() {
        try (var threads = new CpuThreads(2)) {
            var running = new AtomicInteger();
            var started = new AtomicInteger();
            var failure = new IllegalStateException("chunk 0 failed");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> threads.forEach(64, chunk -> {
                running.incrementAndGet();
                started.incrementAndGet();
                try {
                    if (chunk == 0) {
                        throw failure;
                    }
                    LockSupport.parkNanos(2_000_000);
                } finally {
                    running.decrementAndGet();
                }
            }));
            assertSame(failure, thrown, "the chunk's own exception, not a copy made by reflection");
            assertEquals(0, running.get(), "no chunk still runs when forEach throws");
            int startedAtThrow = started.get();
            LockSupport.parkNanos(50_000_000);
            assertEquals(startedAtThrow, started.get(), "no chunk starts after forEach threw");
        }
    }

    @Test
    void anInterruptedCallerStillWaitsForEveryChunkAndKeepsItsInterrupt() {
        try (var threads = new CpuThreads(2)) {
            var ran = new AtomicInteger();
            Thread.currentThread().interrupt();
            try {
                // Chunks that outlast the caller's spinning, so it parks with its interrupt flag set.
                threads.forEach(4, chunk -> {
                    LockSupport.parkNanos(20_000_000);
                    ran.incrementAndGet();
                });
                assertEquals(4, ran.get(), "forEach returned before every chunk had run");
                assertTrue(Thread.currentThread().isInterrupted(), "the caller's interrupt is kept for its code");
            } finally {
                Thread.interrupted();
            }
        }
    }

    @Test
    void laterFailuresAreSuppressedIntoTheFirstNeverWrapped() {
        try (var threads = new CpuThreads(2)) {
            var ran = new AtomicInteger();
            ArithmeticException thrown = assertThrows(ArithmeticException.class, () -> threads.forEach(8, chunk -> {
                ran.incrementAndGet();
                LockSupport.parkNanos(1_000_000);
                throw new ArithmeticException("chunk " + chunk);
            }));
            assertNull(thrown.getCause(), "thrown as the chunk threw it");
            assertEquals(ran.get(), 1 + thrown.getSuppressed().length, "every other failure is suppressed into it");
        }
    }

    @Test
    void theCallingThreadRunsChunksBesideTheWorkers() throws InterruptedException {
        try (var threads = new CpuThreads(2)) {
            var bothStarted = new CountDownLatch(2);
            var ranOnCaller = new AtomicInteger();
            Thread caller = Thread.currentThread();
            threads.forEach(2, chunk -> {
                if (Thread.currentThread() == caller) {
                    ranOnCaller.incrementAndGet();
                }
                bothStarted.countDown();
                try {
                    // Two threads in all (the caller and one worker): both chunks run at once only if the caller
                    // takes one; a caller that only waited would leave the second chunk to start after the first.
                    assertTrue(bothStarted.await(20, TimeUnit.SECONDS), "the two chunks never ran at once");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(1, ranOnCaller.get(), "one chunk on the calling thread, one on the worker");
        }
    }

    @Test
    void aForEachInsideAChunkRunsItsChunksInline() {
        try (var threads = new CpuThreads(2)) {
            var inner = new AtomicInteger();
            threads.forEach(4, outer -> {
                Thread runner = Thread.currentThread();
                threads.forEach(3, chunk -> {
                    assertSame(runner, Thread.currentThread(), "nested chunks stay on the thread that asked");
                    inner.incrementAndGet();
                });
            });
            assertEquals(12, inner.get());
        }
    }

    @Test
    void forEachAfterCloseIsAClosedResource() {
        var threads = new CpuThreads(2);
        threads.close();
        assertThrows(ResourceClosedException.class, () -> threads.forEach(4, chunk -> { }));
    }

    @Test
    void everyChunkRunsOnceWhetherIdleWorkersParkAtOnceOrSpinFirst() {
        for (int spinMicros : new int[] {0, 50, 5_000}) {
            try (var threads = new CpuThreads(3, spinMicros)) {
                for (int round = 0; round < 200; round++) {
                    int chunks = 1 + round % 7;
                    var runs = new AtomicIntegerArray(chunks);
                    threads.forEach(chunks, runs::incrementAndGet);
                    for (int c = 0; c < chunks; c++) {
                        assertEquals(1, runs.get(c), "spin " + spinMicros + " µs, round " + round + ", chunk " + c);
                    }
                    if (round % 50 == 0) {
                        // Long enough for a worker to stop spinning and park, so the next job has to wake it.
                        LockSupport.parkNanos((spinMicros + 1_000) * 1_000L);
                    }
                }
            }
        }
    }

    @Test
    void callersOnSeveralThreadsShareThePoolWithoutLosingChunks() throws InterruptedException {
        try (var threads = new CpuThreads(2)) {
            int callers = 4;
            int rounds = 300;
            var sums = new AtomicLongArray(callers);
            var failures = new java.util.concurrent.ConcurrentLinkedQueue<Throwable>();
            Thread[] started = new Thread[callers];
            for (int t = 0; t < callers; t++) {
                int caller = t;
                started[t] = Thread.ofPlatform().start(() -> {
                    try {
                        for (int round = 0; round < rounds; round++) {
                            threads.forEach(5, chunk -> sums.addAndGet(caller, chunk + 1));
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
            }
            for (Thread thread : started) {
                thread.join();
            }
            assertTrue(failures.isEmpty(), () -> "a caller failed: " + failures);
            for (int t = 0; t < callers; t++) {
                assertEquals(rounds * 15L, sums.get(t), "caller " + t + " saw each of its chunks once per round");
            }
        }
    }

    @Test
    void closeStopsTheWorkerThreads() {
        var threads = new CpuThreads(3, 1_000);
        threads.forEach(8, chunk -> { });
        assertEquals(2, threads.liveWorkers(), "two workers beside the caller");
        assertEquals(3, threads.threads(), "the workers and the caller");
        assertEquals(1, CpuThreads.CALLER.threads(), "the caller alone");
        threads.close();
        assertEquals(0, threads.liveWorkers(), "a closed pool leaves no worker running, spinning or parked");
    }

    @Test
    void closesRacingFromSeveralThreadsStopEveryWorkerAndLeaveThePoolClosed() throws Exception {
        int rounds = 40;
        CpuThreads[] pools = new CpuThreads[rounds];
        for (int r = 0; r < rounds; r++) {
            pools[r] = new CpuThreads(3, 1_000);
            pools[r].forEach(8, chunk -> { });
        }
        SimultaneousCalls.race(SimultaneousCalls.threads(), rounds, r -> pools[r].close());
        for (int r = 0; r < rounds; r++) {
            assertEquals(0, pools[r].liveWorkers(), "round " + r + ": a worker outlived the racing closes");
            CpuThreads closed = pools[r];
            assertThrows(ResourceClosedException.class, () -> closed.forEach(2, chunk -> { }));
        }
    }

    @Test
    void aSpinOutsideItsRangeIsAClearError() {
        InvalidInputException negative = assertThrows(InvalidInputException.class,
                () -> new CpuOptions(2, true, true, -1));
        assertTrue(negative.getMessage().contains("spinMicros must be in [0, 1000000], got -1"),
                negative.getMessage());
        assertEquals(0, new CpuOptions(2, true, true).withSpinMicros(0).spinMicros());
        assertEquals(CpuOptions.DEFAULT_SPIN_MICROS, new CpuOptions(2, true, true).spinMicros());
    }

    @Test
    void moreThreadsThanAPoolTakesIsAClearError() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new CpuBackendProvider().open(0, new CpuOptions(40_000, false, false)).close());
        assertTrue(e.getMessage().contains("threads must be in [1, 32767]"), e.getMessage());
    }
}

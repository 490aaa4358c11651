package org.lacuna.runtime.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * Runs a call from several threads at the same moment, round after round, for tests of what must happen once however
 * many threads race for it (a close). The threads meet at a spinning barrier before every round instead of blocking,
 * so they make the round's call within nanoseconds of each other: close enough that a plain check-then-set boolean
 * lets two of them through within a few rounds, even on two cores.
 */
public final class SimultaneousCalls {
    private SimultaneousCalls() {
    }

    /**
     * Calls {@code call.accept(round)} from each of {@code threads} threads in every round in {@code [0, rounds)}, and
     * returns once every thread has made every call; the first failure of a call is rethrown, later ones suppressed.
     */
    public static void race(int threads, int rounds, IntConsumer call) throws InterruptedException {
        AtomicInteger arrived = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> racers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread racer = new Thread(() -> {
                for (int round = 0; round < rounds; round++) {
                    arrived.incrementAndGet();
                    while (arrived.get() < threads * (round + 1)) {
                        Thread.onSpinWait();
                    }
                    try {
                        call.accept(round);
                    } catch (RuntimeException | Error e) {
                        if (!failure.compareAndSet(null, e)) {
                            failure.get().addSuppressed(e);
                        }
                    }
                }
            }, "simultaneous-call-" + t);
            racer.setDaemon(true);
            racers.add(racer);
            racer.start();
        }
        for (Thread racer : racers) {
            racer.join(TimeUnit.SECONDS.toMillis(60));
            if (racer.isAlive()) {
                throw new IllegalStateException(racer.getName() + " did not finish its " + rounds + " rounds in 60 s");
            }
        }
        Throwable first = failure.get();
        if (first instanceof RuntimeException r) {
            throw r;
        }
        if (first instanceof Error e) {
            throw e;
        }
    }

    /** Threads enough to race on this machine: every core, at least two and at most four. */
    public static int threads() {
        return Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }
}

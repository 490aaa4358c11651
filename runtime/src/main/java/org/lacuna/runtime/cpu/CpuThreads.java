package org.lacuna.runtime.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import org.lacuna.runtime.LacunaException;

/**
 * The serving CPU backend's worker threads: one pool per backend, sized by {@link CpuOptions#threads()}, shut down
 * with it. Work is split into chunks whose boundaries never depend on the thread count, and no reduction spans two
 * chunks, so results are bit for bit the same with 1 or N threads.
 */
final class CpuThreads implements AutoCloseable {
    /** Runs every chunk on the calling thread: for code shared with the single-threaded reference. */
    static final CpuThreads CALLER = new CpuThreads(1);

    private final int threads;
    private final ForkJoinPool pool;

    CpuThreads(int threads) {
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads, pool -> {
            var worker = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            worker.setName("lacuna-cpu-" + worker.getPoolIndex());
            worker.setDaemon(true);
            return worker;
        }, null, false);
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} for every chunk in {@code [0, chunks)}, in parallel where there is more than one chunk and
     * more than one thread. Blocks until all have finished; the first failure is rethrown, the rest suppressed.
     */
    void forEach(int chunks, IntConsumer body) {
        if (chunks <= 0) {
            return;
        }
        if (pool == null || chunks == 1 || ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == pool) {
            for (int i = 0; i < chunks; i++) {
                body.accept(i);
            }
            return;
        }
        ForkJoinTask<?> task = pool.submit(() -> IntStream.range(0, chunks).parallel().forEach(body));
        try {
            task.join();
        } catch (LacunaException | Error e) {
            throw e;
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() instanceof RuntimeException inner && e.getClass() == RuntimeException.class
                    ? inner : e;
            throw cause instanceof RuntimeException r ? r : e;
        }
    }

    /** The number of chunks of {@code grain} items that cover {@code items}. */
    static int chunks(long items, long grain) {
        return Math.toIntExact((items + grain - 1) / grain);
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdown();
            try {
                pool.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

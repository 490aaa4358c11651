package org.lacuna.runtime.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.lacuna.runtime.error.ResourceClosedException;

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
     * more than one thread. Returns only once no chunk is running any more, so a caller may free what the chunks
     * read. The first failure is rethrown as it was thrown (later ones are suppressed into it), and chunks not yet
     * started when one fails are skipped.
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
        var failure = new FirstFailure();
        try {
            pool.invoke(new ChunkRange(0, chunks, body, failure));
        } catch (RejectedExecutionException e) {
            throw new ResourceClosedException("forEach", "CPU worker pool");
        }
        failure.rethrow();
    }

    /** The first throwable of a parallel run, with later ones suppressed into it. */
    private static final class FirstFailure {
        private volatile Throwable first;

        boolean failed() {
            return first != null;
        }

        void record(Throwable t) {
            synchronized (this) {
                if (first == null) {
                    first = t;
                    return;
                }
                if (first != t) {
                    first.addSuppressed(t);
                }
            }
        }

        void rethrow() {
            Throwable t = first;
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException("a CPU chunk threw a checked exception", t);
            }
        }
    }

    /**
     * Chunks {@code [from, to)}, split in halves down to one chunk. Every chunk catches what it throws, so the tree
     * always completes normally and {@link ForkJoinPool#invoke} returns only after every chunk is done.
     */
    private static final class ChunkRange extends RecursiveAction {
        private static final long serialVersionUID = 1L;
        private final int from;
        private final int to;
        private final transient IntConsumer body;
        private final transient FirstFailure failure;

        ChunkRange(int from, int to, IntConsumer body, FirstFailure failure) {
            this.from = from;
            this.to = to;
            this.body = body;
            this.failure = failure;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                if (failure.failed()) {
                    return;
                }
                try {
                    body.accept(from);
                } catch (Throwable t) {
                    failure.record(t);
                }
                return;
            }
            int middle = (from + to) >>> 1;
            invokeAll(new ChunkRange(from, middle, body, failure), new ChunkRange(middle, to, body, failure));
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

package org.lacuna.runtime.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import org.lacuna.runtime.error.ResourceClosedException;

/**
 * The serving CPU backend's worker threads: sized by {@link CpuOptions#threads()}, the calling thread being one of
 * them, shut down with the backend. Work is split into chunks whose boundaries never depend on the thread count, and
 * no reduction spans two chunks, so results are bit for bit the same with 1 or N threads.
 *
 * <p>The thread that calls {@link #forEach} takes chunks itself beside {@code threads - 1} pool workers, each thread
 * claiming the next chunk from one counter. Handing the whole job to the pool instead left the caller blocked and
 * every op waiting for a parked worker to wake, then for that worker to wake the next: a batch-1 encoder forward runs
 * about seventy ops of tens to hundreds of microseconds, and two 50 µs chunks took 108 µs, run one after the other on
 * the first worker before the second woke (measured on this 2-core machine under load).
 */
final class CpuThreads implements AutoCloseable {
    /** Runs every chunk on the calling thread: for code shared with the single-threaded reference. */
    static final CpuThreads CALLER = new CpuThreads(1);
    /**
     * Spins of a caller waiting for the last chunks before it parks: about ten microseconds, for chunks finishing
     * together; longer spinning would take the core from the worker still running on a busy machine.
     */
    private static final int SPINS_BEFORE_PARKING = 256;
    /** Whether this thread is running a chunk: a forEach inside one runs its chunks inline. */
    private static final ThreadLocal<boolean[]> IN_CHUNK = ThreadLocal.withInitial(() -> new boolean[1]);

    private final int threads;
    private final ForkJoinPool pool;

    CpuThreads(int threads) {
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads - 1, pool -> {
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
        if (pool != null && pool.isShutdown()) {
            throw new ResourceClosedException("forEach", "CPU worker pool");
        }
        boolean[] inChunk = IN_CHUNK.get();
        if (pool == null || chunks == 1 || inChunk[0]) {
            for (int i = 0; i < chunks; i++) {
                body.accept(i);
            }
            return;
        }
        Job job = new Job(chunks, body, Thread.currentThread());
        int helpers = Math.min(threads - 1, chunks - 1);
        try {
            for (int i = 0; i < helpers; i++) {
                pool.execute(job::work);
            }
        } catch (RejectedExecutionException e) {
            // The pool closed after the check above: the caller runs what no helper claims, and the job completes.
        }
        job.work();
        job.awaitChunks();
        job.failure.rethrow();
    }

    /** One forEach: the next chunk to claim, the chunks finished (or skipped) and the first failure. */
    private static final class Job {
        private final int chunks;
        private final IntConsumer body;
        private final Thread caller;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        final FirstFailure failure = new FirstFailure();

        Job(int chunks, IntConsumer body, Thread caller) {
            this.chunks = chunks;
            this.body = body;
            this.caller = caller;
        }

        /** Claims and runs chunks until none is left; a chunk claimed after a failure is skipped. */
        void work() {
            boolean[] inChunk = IN_CHUNK.get();
            inChunk[0] = true;
            try {
                for (int i = next.getAndIncrement(); i < chunks; i = next.getAndIncrement()) {
                    if (!failure.failed()) {
                        try {
                            body.accept(i);
                        } catch (Throwable t) {
                            failure.record(t);
                        }
                    }
                    if (finished.incrementAndGet() == chunks && Thread.currentThread() != caller) {
                        LockSupport.unpark(caller);
                    }
                }
            } finally {
                inChunk[0] = false;
            }
        }

        /** Waits (after its own share) until every chunk has finished or been skipped. */
        void awaitChunks() {
            int spins = 0;
            boolean interrupted = false;
            while (finished.get() < chunks) {
                if (spins < SPINS_BEFORE_PARKING) {
                    spins++;
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                    // An interrupted thread's park returns at once: clear the flag so the wait parks (not spins,
                    // taking a core from the worker finishing the last chunk), and set it again on the way out.
                    interrupted |= Thread.interrupted();
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
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

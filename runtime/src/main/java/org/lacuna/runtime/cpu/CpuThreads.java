package org.lacuna.runtime.cpu;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;

/**
 * The serving CPU backend's worker threads: sized by {@link CpuOptions#threads()}, the calling thread being one of
 * them, shut down with the backend. No reduction spans two chunks, and a chunk's results never depend on how the work
 * was cut (chunk boundaries mostly follow the shapes alone; {@code CpuDenseLinear.Tiles} cuts more tiles for more
 * threads only where that changes no bits), so results are bit for bit the same with 1 or N threads.
 *
 * <p>The thread that calls {@link #forEach} takes chunks itself beside {@code threads - 1} workers, each thread
 * claiming the next chunk from one counter. Handing the whole job to a pool instead left the caller blocked and
 * every op waiting for a parked worker to wake, then for that worker to wake the next.
 *
 * <p>Between jobs a worker spins for {@link CpuOptions#spinMicros()} before it parks, and so does a caller waiting
 * for the last chunks. A batch-1 encoder forward runs about a hundred parallel ops of 0.1 to 0.7 ms with short
 * serial stretches between them; a parked worker took about 200 µs to start its chunk on this 2-vCPU virtual machine
 * (an idle virtual CPU is woken through the hypervisor), so it often started after the caller had done its whole
 * share and the op ran on one core. OpenMP and ONNX Runtime spin between parallel regions for the same reason. With
 * both cores free, spinning 100 µs took the 6-layer MiniLM-shaped forward at one sentence from 24.5 to 20.7 ms
 * (same JVM, interleaved, medians of 60; ad hoc, not kept as a record); where the cores are oversubscribed a
 * spinning worker burns time the caller needs (37 against 40 ms for no spin against 100 µs under heavy load). A spin
 * of 0 parks at once.
 */
final class CpuThreads implements AutoCloseable {
    /** Runs every chunk on the calling thread: for code shared with the single-threaded reference. */
    static final CpuThreads CALLER = new CpuThreads(1, 0);
    /** How long to wait for a closing worker to finish the chunk it runs. */
    private static final long CLOSE_WAIT_SECONDS = 10;
    /** Whether this thread is running a chunk: a forEach inside one runs its chunks inline. */
    private static final ThreadLocal<boolean[]> IN_CHUNK = ThreadLocal.withInitial(() -> new boolean[1]);

    private final long spinNanos;
    private final Worker[] workers;
    /** Jobs with chunks left to claim, oldest first; each caller removes its own when it has done its share. */
    private final ConcurrentLinkedQueue<Job> jobs = new ConcurrentLinkedQueue<>();
    private final ClosedFlag closed = new ClosedFlag();

    /** With the default spin ({@link CpuOptions#DEFAULT_SPIN_MICROS}). */
    CpuThreads(int threads) {
        this(threads, CpuOptions.DEFAULT_SPIN_MICROS);
    }

    /**
     * @param threads    threads in all, the caller included
     * @param spinMicros how long an idle worker, or a caller waiting for the last chunks, spins before it parks, as
     *                   {@link CpuOptions#spinMicros()} says it
     */
    CpuThreads(int threads, int spinMicros) {
        this.spinNanos = TimeUnit.MICROSECONDS.toNanos(Math.max(0, spinMicros));
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("lacuna-cpu-" + i);
        }
        for (Worker worker : workers) {
            worker.thread.start();
        }
    }

    /** Threads in all: the workers and the caller. */
    int threads() {
        return workers.length + 1;
    }

    /** Worker threads still alive (a test checks close stops them all). */
    int liveWorkers() {
        int alive = 0;
        for (Worker worker : workers) {
            alive += worker.thread.isAlive() ? 1 : 0;
        }
        return alive;
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
        if (closed.isClosed()) {
            throw new ResourceClosedException("forEach", "CPU worker pool");
        }
        boolean[] inChunk = IN_CHUNK.get();
        if (workers.length == 0 || chunks == 1 || inChunk[0]) {
            for (int i = 0; i < chunks; i++) {
                body.accept(i);
            }
            return;
        }
        Job job = new Job(chunks, body, Thread.currentThread());
        jobs.add(job);
        wakeWorkers(Math.min(workers.length, chunks - 1));
        // A pool closed meanwhile leaves the caller to run what no worker claims: the job completes either way.
        job.work();
        jobs.remove(job);
        job.awaitChunks(spinNanos);
        job.failure.rethrow();
    }

    /** Unparks up to {@code wanted} parked workers; spinning ones find the job themselves. */
    private void wakeWorkers(int wanted) {
        int woken = 0;
        for (int i = 0; i < workers.length && woken < wanted; i++) {
            Worker worker = workers[i];
            if (worker.parked) {
                LockSupport.unpark(worker.thread);
                woken++;
            }
        }
    }

    /** The oldest job with chunks left, dropping finished ones from the front; null for none. */
    private Job nextJob() {
        for (Job job = jobs.peek(); job != null; job = jobs.peek()) {
            if (job.hasChunksLeft()) {
                return job;
            }
            jobs.remove(job);
        }
        return null;
    }

    /** A pool thread: runs jobs' chunks, spins a while when there are none, then parks until woken. */
    private final class Worker implements Runnable {
        final Thread thread;
        /** Set before the worker parks (and checks for work once more), so a caller unparks only parked workers. */
        volatile boolean parked;

        Worker(String name) {
            thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            while (!closed.isClosed()) {
                Job job = nextJob();
                if (job != null) {
                    job.work();
                    continue;
                }
                if (spinNanos > 0) {
                    long deadline = System.nanoTime() + spinNanos;
                    while (jobs.isEmpty() && !closed.isClosed() && System.nanoTime() - deadline < 0) {
                        Thread.onSpinWait();
                    }
                    if (!jobs.isEmpty()) {
                        continue;
                    }
                }
                parked = true;
                // Checked after announcing the park: a job added before it is seen here, one added after it finds
                // the flag set and unparks this thread.
                if (jobs.isEmpty() && !closed.isClosed()) {
                    LockSupport.park(this);
                }
                parked = false;
                // A worker's interrupt means nothing to it (close wakes it by unpark): clear it so park blocks again.
                Thread.interrupted();
            }
        }
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

        boolean hasChunksLeft() {
            return next.get() < chunks;
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

        /** Waits (after its own share) until every chunk has finished or been skipped: spins, then parks. */
        void awaitChunks(long spinNanos) {
            long deadline = System.nanoTime() + spinNanos;
            while (finished.get() < chunks && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait();
            }
            boolean interrupted = false;
            while (finished.get() < chunks) {
                LockSupport.park(this);
                // An interrupted thread's park returns at once: clear the flag so the wait parks (not spins,
                // taking a core from the worker finishing the last chunk), and set it again on the way out.
                interrupted |= Thread.interrupted();
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

    /** Stops the workers: each finishes the chunk it runs (waited for up to ten seconds) and exits. */
    @Override
    public void close() {
        if (!closed.markClosed()) {
            return;
        }
        for (Worker worker : workers) {
            LockSupport.unpark(worker.thread);
        }
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLOSE_WAIT_SECONDS);
        for (Worker worker : workers) {
            long left = deadline - System.nanoTime();
            while (worker.thread.isAlive() && left > 0) {
                try {
                    worker.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
                left = deadline - System.nanoTime();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}

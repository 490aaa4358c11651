package org.lacuna.runtime.cpu;

import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;

/**
 * Counts the calls in flight on a CPU backend, so that {@link #close} waits for them before the memory they use is
 * freed, and refuses every call after it. Work on the CPU runs on the caller's thread (and the backend's workers,
 * which the caller waits for), so nothing else marks a call as running.
 */
final class CpuLifecycle {
    private final String what;
    private int inFlight;
    private final ClosedFlag closed = new ClosedFlag();

    CpuLifecycle(String what) {
        this.what = what;
    }

    /** Marks a call as running; pair it with {@link #exit}. */
    synchronized void enter(String call) {
        if (closed.isClosed()) {
            throw new ResourceClosedException(call, what);
        }
        inFlight++;
    }

    synchronized void exit() {
        if (--inFlight == 0) {
            notifyAll();
        }
    }

    /** Runs {@code body} as one call in flight. */
    void run(String call, Runnable body) {
        enter(call);
        try {
            body.run();
        } finally {
            exit();
        }
    }

    /** Runs {@code body} as one call in flight and returns its result. */
    <T> T call(String call, java.util.function.Supplier<T> body) {
        enter(call);
        try {
            return body.get();
        } finally {
            exit();
        }
    }

    synchronized boolean isClosed() {
        return closed.isClosed();
    }

    /**
     * Refuses new calls and waits for those in flight. Returns false when it was closed already. Never call it from
     * inside a call, which would wait for itself.
     */
    synchronized boolean close() {
        if (!closed.markClosed()) {
            return false;
        }
        boolean interrupted = false;
        while (inFlight > 0) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true; // the memory must not be freed under a running call: keep waiting
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return true;
    }
}

package org.lacuna.spark;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * A model loaded once in an executor and used by all its task threads, one call at a time unless the model is
 * thread-safe itself: a device stream, or the CPU backend's worker pool, serves one batch at a time anyway, and most
 * models keep per-call state.
 */
final class SharedModel<M extends AutoCloseable> implements AutoCloseable {
    private final M model;
    private final String backendName;
    private final String deviceName;
    private final ReentrantLock lock = new ReentrantLock(true);

    SharedModel(M model, String backendName, String deviceName) {
        this.model = model;
        this.backendName = backendName;
        this.deviceName = deviceName;
    }

    /**
     * Runs {@code body} on the model: while no other thread of this JVM uses it, unless {@code threadSafe} (the model
     * takes turns on the device itself and overlaps the rest).
     */
    <R> R call(Function<M, R> body, boolean threadSafe) {
        if (threadSafe) {
            return body.apply(model);
        }
        lock.lock();
        try {
            return body.apply(model);
        } finally {
            lock.unlock();
        }
    }

    /** {@code cpu} or {@code cuda}. */
    String backendName() {
        return backendName;
    }

    String deviceName() {
        return deviceName;
    }

    @Override
    public void close() throws Exception {
        lock.lock();
        try {
            model.close();
        } finally {
            lock.unlock();
        }
    }
}

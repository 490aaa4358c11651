package org.lacuna.bench.gpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.DeviceTimer;

/**
 * Times host-issued work between two full synchronisations. For transfers, whose host call may return before or
 * after the copy (pinned or pageable memory) and may not run on the stream the backend's events are recorded on:
 * only the host's clock sees the whole of them.
 */
public final class WallClockTimer implements DeviceTimer {
    private final Backend backend;
    private long startNanos;

    public WallClockTimer(Backend backend) {
        this.backend = backend;
    }

    @Override
    public void start() {
        backend.synchronize();
        startNanos = System.nanoTime();
    }

    @Override
    public double stopMillis() {
        backend.synchronize();
        return (System.nanoTime() - startNanos) / 1e6;
    }

    @Override
    public void close() {
    }
}

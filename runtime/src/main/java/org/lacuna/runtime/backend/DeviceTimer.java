package org.lacuna.runtime.backend;

/**
 * Times work issued to a backend's stream: CUDA events on the GPU (no host synchronisation between start and stop),
 * the wall clock on the CPU. One timer is reused across many measurements.
 */
public interface DeviceTimer extends AutoCloseable {
    /**
     * The host's wall clock, for work that is done when its call returns (the CPU backends' ops): what a caller of a
     * synchronous op waits.
     */
    static DeviceTimer hostClock() {
        return new HostClockTimer();
    }

    /** Records the start point on the stream. */
    void start();

    /** Records the end point, waits for it, and returns the milliseconds between start and stop. */
    double stopMillis();

    @Override
    void close();
}

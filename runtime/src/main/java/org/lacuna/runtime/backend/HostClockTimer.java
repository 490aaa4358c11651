package org.lacuna.runtime.backend;

/** {@link DeviceTimer#hostClock()}: {@link System#nanoTime()} at start and at stop, nothing to wait for or release. */
final class HostClockTimer implements DeviceTimer {
    private long startNanos;

    @Override
    public void start() {
        startNanos = System.nanoTime();
    }

    @Override
    public double stopMillis() {
        return (System.nanoTime() - startNanos) / 1e6;
    }

    @Override
    public void close() {
    }
}

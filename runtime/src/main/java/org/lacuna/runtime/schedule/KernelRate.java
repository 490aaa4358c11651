package org.lacuna.runtime.schedule;

/**
 * How fast one kernel runs on one device: the arithmetic rate and the memory bandwidth it reaches, and the fixed
 * cost of one call. A call is predicted to take {@code calls · overhead + max(flops / flopRate, bytes / bandwidth)}:
 * the roofline of the kernel, not of the device, so that a kernel that reaches a small fraction of the peak (a
 * CSR product, a gather) is not flattered by the peak.
 */
public record KernelRate(double flopsPerSecond, double bytesPerSecond, double overheadSeconds) {
    public KernelRate {
        if (!(flopsPerSecond > 0) || !(bytesPerSecond > 0) || !(overheadSeconds >= 0)) {
            throw new IllegalArgumentException("a kernel rate needs positive flop rate and bandwidth and a non-negative"
                    + " overhead, got " + flopsPerSecond + ", " + bytesPerSecond + ", " + overheadSeconds);
        }
    }

    /** Predicted seconds for {@code work} on a device of {@code units} parallel units. */
    public double seconds(Work work, int units) {
        double occupancy = Math.min(1.0, (double) work.parallelism() / Math.max(1, units));
        return work.calls() * overheadSeconds
                + Math.max(work.flops() / flopsPerSecond, work.bytes() / bytesPerSecond) / occupancy;
    }
}

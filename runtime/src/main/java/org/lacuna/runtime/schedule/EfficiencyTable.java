package org.lacuna.runtime.schedule;

import java.util.Map;
import java.util.TreeMap;

/**
 * A device's kernel rates, one per kernel family ({@link Candidate#kernel()}): measured once per device by
 * {@link Calibration} and kept in the {@link TuningStore}, or written by hand for tests and for devices that cannot
 * run the calibration (the rates then only need to be right relative to one another).
 *
 * @param peakFlopsPerSecond the device's best measured arithmetic rate (the dense GEMM's), for reports
 * @param bytesPerSecond     the device's measured memory bandwidth, the rate for kernels with no entry
 * @param overheadSeconds    the device's measured cost of one tiny call, likewise
 * @param units              the device's parallel units: SMs on a GPU, worker threads on the CPU
 * @param kernels            each kernel family's own rate
 * @param source             where the numbers come from ("measured 2026-12-06T…", "test table")
 * @param version            what the calibration that made it measured ({@link #CURRENT_VERSION}); a stored table
 *                           of an older version (0: a file written before tables had one) is {@link #stale()} and
 *                           measured again, never fatal
 */
public record EfficiencyTable(double peakFlopsPerSecond, double bytesPerSecond, double overheadSeconds, int units,
                              Map<String, KernelRate> kernels, String source, int version) {
    /**
     * 2: each linear kernel's rate is measured at a 32-token call as well as a 256-token one
     * ({@link KernelRate#bySize}); older tables (stored without a version: 0) predicted small calls from the large call's
     * rate, up to 3x off at 32 tokens on the development CPU (bench/results/schedule-cpu-20261206-1442.md: 0.048
     * predicted against 0.141 ms measured).
     */
    public static final int CURRENT_VERSION = 2;

    /** A table of the current version (hand-written ones: tests, devices that cannot calibrate). */
    public EfficiencyTable(double peakFlopsPerSecond, double bytesPerSecond, double overheadSeconds, int units,
                           Map<String, KernelRate> kernels, String source) {
        this(peakFlopsPerSecond, bytesPerSecond, overheadSeconds, units, kernels, source, CURRENT_VERSION);
    }

    public EfficiencyTable {
        if (!(peakFlopsPerSecond > 0) || !(bytesPerSecond > 0) || !(overheadSeconds >= 0) || units < 1) {
            throw new IllegalArgumentException("an efficiency table needs a positive peak and bandwidth, got "
                    + peakFlopsPerSecond + ", " + bytesPerSecond);
        }
        kernels = Map.copyOf(kernels);
    }

    /** Made by an older calibration than this build's: to be measured again. */
    public boolean stale() {
        return version < CURRENT_VERSION;
    }

    /** The rate of {@code kernel}: its own, or the device's peak, bandwidth and overhead when it has none. */
    public KernelRate rate(String kernel) {
        // Plain code, no Optional and lambda: every prediction of a cold store's decisions asks, mostly interpreted.
        KernelRate own = kernels.get(kernel);
        return own != null ? own : new KernelRate(peakFlopsPerSecond, bytesPerSecond, overheadSeconds);
    }

    /** Predicted seconds of {@code work} on {@code kernel}. */
    public double seconds(String kernel, Work work) {
        return rate(kernel).seconds(work, units);
    }

    /** Predicted seconds a layer's first call of {@code kernel} adds converting its weight ({@link Work#weights()}). */
    public double formSeconds(String kernel, Work work) {
        return rate(kernel).formSeconds(work);
    }

    public boolean knows(String kernel) {
        return kernels.containsKey(kernel);
    }

    /** This table with {@code kernel}'s rate set. */
    public EfficiencyTable with(String kernel, KernelRate rate) {
        Map<String, KernelRate> copy = new TreeMap<>(kernels);
        copy.put(kernel, rate);
        return new EfficiencyTable(peakFlopsPerSecond, bytesPerSecond, overheadSeconds, units, copy, source, version);
    }
}

package org.lacuna.runtime.schedule;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How fast one kernel runs on one device: the arithmetic rate and the memory bandwidth it reaches, and the fixed
 * cost of one call. A call is predicted to take {@code calls · overhead + max(flops / flopRate, bytes / bandwidth)}:
 * the roofline of the kernel, not of the device, so that a kernel that reaches a small fraction of the peak (a
 * CSR product, a gather) is not flattered by the peak.
 *
 * <p>A kernel's arithmetic rate depends on the size of the call: at 32 tokens a CPU 2:4 kernel fills two 16-token
 * panels and reaches a fraction of its rate at 256 (measured on the development CPU: 2:4 predicted best at 32 tokens
 * from its large-call rate, measured 1.5-2x slower than dense in bench/results/schedule-cpu-20261206-1442.md), and a threaded GEMM's hand-off to its workers weighs
 * more on a short call. Where {@link #bySize} holds the rates measured at several call sizes (on one weight, so the
 * size moves with the token count), the rate of a call is interpolated between them in log-log space and held at the
 * nearest end outside them; with none, {@link #flopsPerSecond} serves every size (hand-written tables, older stores).
 *
 * @param bySize               rates measured at given call sizes (FLOP per call), any order; null or empty for none
 * @param formSecondsPerWeight what the kernel's first call on a weight costs beyond a later one, per weight element
 *                             it converts ({@link Work#weights()}): the widening, packing or decompression a live
 *                             trial pays for every candidate it tries; 0 where not measured
 */
public record KernelRate(double flopsPerSecond, double bytesPerSecond, double overheadSeconds, List<SizeRate> bySize,
                         double formSecondsPerWeight) {
    /** The rate a kernel reached on a call of {@code callFlops} floating-point operations. */
    public record SizeRate(double callFlops, double flopsPerSecond) {
        public SizeRate {
            if (!(callFlops > 0) || !(flopsPerSecond > 0)) {
                throw new IllegalArgumentException("a size rate needs a positive call size and rate, got "
                        + callFlops + ", " + flopsPerSecond);
            }
        }
    }

    public KernelRate {
        if (!(flopsPerSecond > 0) || !(bytesPerSecond > 0) || !(overheadSeconds >= 0) || !(formSecondsPerWeight >= 0)) {
            throw new IllegalArgumentException("a kernel rate needs positive flop rate and bandwidth and a non-negative"
                    + " overhead and form cost, got " + flopsPerSecond + ", " + bytesPerSecond + ", " + overheadSeconds
                    + ", " + formSecondsPerWeight);
        }
        List<SizeRate> sorted = new ArrayList<>(bySize == null ? List.of() : bySize);
        sorted.sort(Comparator.comparingDouble(SizeRate::callFlops));
        bySize = List.copyOf(sorted);
    }

    /** A rate that is the same at every call size. */
    public KernelRate(double flopsPerSecond, double bytesPerSecond, double overheadSeconds) {
        this(flopsPerSecond, bytesPerSecond, overheadSeconds, List.of(), 0);
    }

    /** Predicted seconds a layer's first call of the kernel adds for converting the weight of {@code work}. */
    public double formSeconds(Work work) {
        return formSecondsPerWeight * work.weights();
    }

    /** The arithmetic rate on a call of {@code callFlops}: interpolated in {@link #bySize}, else the one rate. */
    public double flopsPerSecondAt(double callFlops) {
        if (bySize.isEmpty()) {
            return flopsPerSecond;
        }
        SizeRate first = bySize.get(0);
        if (!(callFlops > first.callFlops())) {
            return first.flopsPerSecond();
        }
        for (int i = 1; i < bySize.size(); i++) {
            SizeRate upper = bySize.get(i);
            if (callFlops <= upper.callFlops()) {
                SizeRate lower = bySize.get(i - 1);
                double at = Math.log(callFlops / lower.callFlops()) / Math.log(upper.callFlops() / lower.callFlops());
                return Math.exp(Math.log(lower.flopsPerSecond())
                        + at * Math.log(upper.flopsPerSecond() / lower.flopsPerSecond()));
            }
        }
        return bySize.get(bySize.size() - 1).flopsPerSecond();
    }

    /** Predicted seconds for {@code work} on a device of {@code units} parallel units. */
    public double seconds(Work work, int units) {
        double occupancy = Math.min(1.0, (double) work.parallelism() / Math.max(1, units));
        return work.calls() * overheadSeconds
                + Math.max(work.flops() / flopsPerSecondAt(work.flops() / Math.max(1, work.calls())),
                        work.bytes() / bytesPerSecond) / occupancy; // the rate of one call's size
    }
}

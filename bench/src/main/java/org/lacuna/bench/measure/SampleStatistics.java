package org.lacuna.bench.measure;

import java.util.Arrays;

/**
 * Order statistics of a set of timings. Medians and percentiles rather than means: a GPU timing's noise is one-sided
 * (preemption, clock changes, a late launch only ever add time), so the mean is pulled by outliers the median ignores.
 */
public final class SampleStatistics {
    private final double[] sorted;

    private SampleStatistics(double[] sorted) {
        this.sorted = sorted;
    }

    public static SampleStatistics of(double... samples) {
        if (samples.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        double[] copy = samples.clone();
        for (double sample : copy) {
            if (!Double.isFinite(sample)) {
                throw new IllegalArgumentException("sample is not a finite number: " + sample);
            }
        }
        Arrays.sort(copy);
        return new SampleStatistics(copy);
    }

    public int count() {
        return sorted.length;
    }

    public double min() {
        return sorted[0];
    }

    public double max() {
        return sorted[sorted.length - 1];
    }

    public double median() {
        return percentile(50);
    }

    public double mean() {
        double sum = 0;
        for (double sample : sorted) {
            sum += sample;
        }
        return sum / sorted.length;
    }

    /**
     * The {@code p}-th percentile (0..100), interpolating linearly between the two nearest ranks — the definition of
     * numpy's default and of R's type 7, so numbers compare with tools that use either.
     */
    public double percentile(double p) {
        if (!(p >= 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile outside 0..100: " + p);
        }
        double rank = p / 100.0 * (sorted.length - 1);
        int below = (int) Math.floor(rank);
        int above = Math.min(below + 1, sorted.length - 1);
        double fraction = rank - below;
        return sorted[below] + fraction * (sorted[above] - sorted[below]);
    }
}

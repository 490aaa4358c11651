package org.lacuna.runtime.schedule;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the scheduler knows about one layer on one input: computed where the data is (the weight when the layer is
 * made, the kernel map when it is built, the batch's sizes), cheap, and public so that users can look at it.
 */
public sealed interface LayerStatistics permits LinearStatistics, ConvolutionStatistics, AttentionStatistics {
    /** {@code linear}, {@code sparse-conv} or {@code attention}: what a forced kernel per layer type names. */
    String kind();

    /**
     * The bucketed key under which a choice is stored and shared: inputs whose statistics fall in the same buckets
     * get the same plan, so planning happens once per bucket, never per call.
     */
    String signature();

    /** Every statistic by name, in a stable order, for {@link Plan#explain()} and the JSON plan. */
    Map<String, Object> describe();

    /** {@code n} rounded up to a power of two (1 for n <= 1): the bucket of a size. */
    static long sizeBucket(long n) {
        return n <= 1 ? 1 : Long.highestOneBit(n - 1) << 1;
    }

    /**
     * The statistics named in {@code namesAndValues} (name, value, name, value, ...), in that order, as
     * {@link #describe()} returns them (a mutable map, so a caller may add more).
     */
    static Map<String, Object> described(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values come in pairs");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            m.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return m;
    }

    /** {@code value} rounded to a multiple of {@code step}, for bucketing ratios. */
    static double ratioBucket(double value, double step) {
        return Math.round(value / step) * step;
    }
}

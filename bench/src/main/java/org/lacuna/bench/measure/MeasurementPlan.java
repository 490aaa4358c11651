package org.lacuna.bench.measure;

/**
 * How long and how often to measure one benchmark case.
 *
 * @param minWarmupLaunches  launches before any sample counts, however slow the kernel (compilation, first-touch
 *                           page mapping and clock ramp-up all land in the first few)
 * @param warmupMillis       wall-clock warm-up, also a minimum: GPU clocks take tens of milliseconds to rise
 * @param samples            samples wanted
 * @param minSamples         samples kept even when that overruns {@code maxMeasureMillis} (a median needs several)
 * @param maxMeasureMillis   estimated device time after which fewer samples are taken, so one slow case cannot
 *                           eat a device session
 * @param minSampleMillis    a sample shorter than this is made of several back-to-back launches: CUDA events
 *                           resolve about half a microsecond, and a lone tiny kernel mostly times its launch
 */
public record MeasurementPlan(int minWarmupLaunches, double warmupMillis, int samples, int minSamples,
                              double maxMeasureMillis, double minSampleMillis) {
    public MeasurementPlan {
        if (minWarmupLaunches < 1 || samples < 1 || minSamples < 1 || minSamples > samples) {
            throw new IllegalArgumentException("need minWarmupLaunches >= 1 and 1 <= minSamples <= samples");
        }
        if (warmupMillis < 0 || maxMeasureMillis <= 0 || minSampleMillis < 0) {
            throw new IllegalArgumentException("warmupMillis, minSampleMillis must be >= 0 and maxMeasureMillis > 0");
        }
    }

    public static MeasurementPlan defaults() {
        return new MeasurementPlan(3, 200, 100, 10, 3_000, 0.1);
    }

    public MeasurementPlan withSamples(int newSamples) {
        return new MeasurementPlan(minWarmupLaunches, warmupMillis, newSamples, Math.min(minSamples, newSamples),
                maxMeasureMillis, minSampleMillis);
    }

    public MeasurementPlan withMinSamples(int newMinSamples) {
        return new MeasurementPlan(minWarmupLaunches, warmupMillis, samples, newMinSamples, maxMeasureMillis,
                minSampleMillis);
    }

    public MeasurementPlan withWarmupMillis(double newWarmupMillis) {
        return new MeasurementPlan(minWarmupLaunches, newWarmupMillis, samples, minSamples, maxMeasureMillis,
                minSampleMillis);
    }

    public MeasurementPlan withMaxMeasureMillis(double newMaxMeasureMillis) {
        return new MeasurementPlan(minWarmupLaunches, warmupMillis, samples, minSamples, newMaxMeasureMillis,
                minSampleMillis);
    }
}

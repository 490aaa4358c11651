package org.lacuna.bench.measure;

import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import org.lacuna.runtime.backend.DeviceTimer;

/**
 * Warms a launch up, then times it many times with a {@link DeviceTimer}. Launch {@code i} is handed its index so
 * that it can pick copy {@code i} of a rotated input set; indices keep counting from the warm-up into the samples.
 */
public final class Sampler {
    private final MeasurementPlan plan;
    private final LongSupplier nanoClock;

    public Sampler(MeasurementPlan plan) {
        this(plan, System::nanoTime);
    }

    /** {@code nanoClock} bounds the warm-up; tests pass a fake one. */
    Sampler(MeasurementPlan plan, LongSupplier nanoClock) {
        this.plan = plan;
        this.nanoClock = nanoClock;
    }

    /**
     * @param timer  brackets each sample; for CUDA it records events on the stream the launches go to
     * @param launch issues one unit of the work being measured (asynchronously, on GPU backends)
     */
    public Samples sample(DeviceTimer timer, LongConsumer launch) {
        Warmup warm = warmUp(timer, launch);
        int launchesPerSample = warm.launchesPerSample(plan);
        int sampleCount = sampleCount(warm.estimateMillis() * launchesPerSample);
        double[] perLaunchMillis = new double[sampleCount];
        long index = warm.launches();
        for (int s = 0; s < sampleCount; s++) {
            perLaunchMillis[s] = timeSample(timer, launch, index, launchesPerSample);
            index += launchesPerSample;
        }
        return new Samples(perLaunchMillis, launchesPerSample, warm.launches());
    }

    /**
     * Samples two launches taking turns, one sample of {@code first} then one of {@code second}, after warming up
     * each: the two sides of a ratio then meet the same load on a shared machine, where timing one after the other
     * lets a change of load (another job starting on the 2 shared cores) land on one side only. Each side keeps its
     * own launch indices, counting from 0 as {@link #sample} does. Returns {first's samples, second's}.
     */
    public Samples[] sampleAlternating(DeviceTimer timer, LongConsumer first, LongConsumer second) {
        Warmup warmFirst = warmUp(timer, first);
        Warmup warmSecond = warmUp(timer, second);
        int perSampleFirst = warmFirst.launchesPerSample(plan);
        int perSampleSecond = warmSecond.launchesPerSample(plan);
        int sampleCount = sampleCount(warmFirst.estimateMillis() * perSampleFirst
                + warmSecond.estimateMillis() * perSampleSecond);
        double[] firstMillis = new double[sampleCount];
        double[] secondMillis = new double[sampleCount];
        long indexFirst = warmFirst.launches();
        long indexSecond = warmSecond.launches();
        for (int s = 0; s < sampleCount; s++) {
            firstMillis[s] = timeSample(timer, first, indexFirst, perSampleFirst);
            indexFirst += perSampleFirst;
            secondMillis[s] = timeSample(timer, second, indexSecond, perSampleSecond);
            indexSecond += perSampleSecond;
        }
        return new Samples[] {new Samples(firstMillis, perSampleFirst, warmFirst.launches()),
                new Samples(secondMillis, perSampleSecond, warmSecond.launches())};
    }

    /** Launches until both the plan's warm-up launches and its warm-up time are spent. */
    private Warmup warmUp(DeviceTimer timer, LongConsumer launch) {
        long warmupStart = nanoClock.getAsLong();
        double lastWarmupMillis = Double.NaN;
        int warmupLaunches = 0;
        while (warmupLaunches < plan.minWarmupLaunches()
                || (nanoClock.getAsLong() - warmupStart) / 1e6 < plan.warmupMillis()) {
            timer.start();
            launch.accept(warmupLaunches);
            lastWarmupMillis = timer.stopMillis();
            warmupLaunches++;
        }
        // The last warm-up launch is the best estimate of a warm launch: earlier ones still paid for compilation.
        return new Warmup(warmupLaunches, Math.max(lastWarmupMillis, 1e-6));
    }

    /** Samples that fit the plan's measuring time at {@code sampleMillis} each, within its minimum and maximum. */
    private int sampleCount(double sampleMillis) {
        return Math.clamp((long) Math.floor(plan.maxMeasureMillis() / sampleMillis), plan.minSamples(),
                plan.samples());
    }

    /** One sample of {@code launches} back-to-back launches from {@code index} on: the time per launch. */
    private static double timeSample(DeviceTimer timer, LongConsumer launch, long index, int launches) {
        timer.start();
        for (int l = 0; l < launches; l++) {
            launch.accept(index + l);
        }
        return timer.stopMillis() / launches;
    }

    /** Where a warm-up left off: the next launch index, the launches it ran and its estimate of a warm launch. */
    private record Warmup(int launches, double estimateMillis) {
        int launchesPerSample(MeasurementPlan plan) {
            return (int) Math.max(1, Math.ceil(plan.minSampleMillis() / estimateMillis));
        }
    }

    /**
     * @param perLaunchMillis   one entry per sample: the sample's time divided by its launches
     * @param launchesPerSample back-to-back launches inside each sample
     * @param warmupLaunches    launches run and discarded before the first sample
     */
    public record Samples(double[] perLaunchMillis, int launchesPerSample, int warmupLaunches) {
        public long timedLaunches() {
            return (long) perLaunchMillis.length * launchesPerSample;
        }

        public SampleStatistics statistics() {
            return SampleStatistics.of(perLaunchMillis);
        }
    }
}

package org.lacuna.bench.gpu;

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
        long index = 0;
        long warmupStart = nanoClock.getAsLong();
        double lastWarmupMillis = Double.NaN;
        int warmupLaunches = 0;
        while (warmupLaunches < plan.minWarmupLaunches()
                || (nanoClock.getAsLong() - warmupStart) / 1e6 < plan.warmupMillis()) {
            timer.start();
            launch.accept(index++);
            lastWarmupMillis = timer.stopMillis();
            warmupLaunches++;
        }
        // The last warm-up launch is the best estimate of a warm launch: earlier ones still paid for compilation.
        double estimate = Math.max(lastWarmupMillis, 1e-6);
        int launchesPerSample = (int) Math.max(1, Math.ceil(plan.minSampleMillis() / estimate));
        int sampleCount = Math.clamp(
                (long) Math.floor(plan.maxMeasureMillis() / (estimate * launchesPerSample)),
                plan.minSamples(), plan.samples());

        double[] perLaunchMillis = new double[sampleCount];
        for (int s = 0; s < sampleCount; s++) {
            timer.start();
            for (int l = 0; l < launchesPerSample; l++) {
                launch.accept(index++);
            }
            perLaunchMillis[s] = timer.stopMillis() / launchesPerSample;
        }
        return new Samples(perLaunchMillis, launchesPerSample, warmupLaunches);
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

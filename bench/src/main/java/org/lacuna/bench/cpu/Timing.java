package org.lacuna.bench.cpu;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.function.LongConsumer;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.bench.measure.SampleStatistics;
import org.lacuna.bench.measure.Sampler;
import org.lacuna.runtime.backend.DeviceTimer;

/**
 * One side's timing of one case, per launch, in milliseconds: Lacuna's, PyTorch's or ONNX Runtime's.
 *
 * @param name    what was timed ({@code lacuna-dense}, {@code torch-explicit}, {@code onnxruntime-minilm}, ...)
 * @param source  {@code lacuna}, {@code pytorch} or {@code onnxruntime}
 * @param what    the call, in words
 * @param error   set instead of the times when the side could not run the case (and why)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Timing(String name, String source, String what, Double medianMs, Double p10Ms, Double p90Ms,
                     Integer samples, Integer launchesPerSample, Integer warmupLaunches, Double relativeError,
                     String error) {
    public static Timing failed(String name, String source, String what, String error) {
        return new Timing(name, source, what, null, null, null, null, null, null, null, error);
    }

    public boolean measured() {
        return error == null && medianMs != null && medianMs > 0;
    }

    /** GFLOP/s at the median for {@code flops} per launch; null when unmeasured or there are no FLOPs. */
    public Double gflops(long flops) {
        return measured() && flops > 0 ? flops / (medianMs * 1e6) : null;
    }

    /**
     * Warms {@code launch} up and times it on the host clock (the CPU backend's ops are synchronous) with the harness
     * every GPU benchmark uses: {@link Sampler}'s warm-up, back-to-back launches for short ones, medians.
     */
    public static Timing measure(String name, String source, String what, MeasurementPlan plan, LongConsumer launch) {
        return of(name, source, what, new Sampler(plan).sample(DeviceTimer.hostClock(), launch));
    }

    /**
     * Times two launches as {@link #measure} does, taking turns sample by sample ({@link Sampler#sampleAlternating}),
     * for a case whose result is the ratio of the two: both sides then see the same load on a shared machine.
     * Returns {first, second}.
     */
    public static Timing[] measureAlternating(Side first, Side second, MeasurementPlan plan) {
        Sampler.Samples[] samples = new Sampler(plan).sampleAlternating(DeviceTimer.hostClock(), first.launch(),
                second.launch());
        return new Timing[] {of(first.name(), first.source(), first.what(), samples[0]),
                of(second.name(), second.source(), second.what(), samples[1])};
    }

    /** One side of {@link #measureAlternating}: the names {@link #measure} takes and its launch. */
    public record Side(String name, String source, String what, LongConsumer launch) {
    }

    private static Timing of(String name, String source, String what, Sampler.Samples samples) {
        SampleStatistics stats = samples.statistics();
        return new Timing(name, source, what, stats.median(), stats.percentile(10), stats.percentile(90),
                stats.count(), samples.launchesPerSample(), samples.warmupLaunches(), null, null);
    }

    public Timing withRelativeError(double error) {
        return new Timing(name, source, what, medianMs, p10Ms, p90Ms, samples, launchesPerSample, warmupLaunches,
                error, this.error);
    }
}

package org.lacuna.bench.gpu;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * One measured case, as written to {@code bench.json}. Times are per launch, in milliseconds. Achieved rates are
 * taken at the median.
 *
 * @param params              the shape and settings of the case (sizes, density, dtype...)
 * @param timer               {@code device} (CUDA events on GPUs) or {@code wall-clock} (host clock between syncs)
 * @param samples             timed samples the statistics come from
 * @param launchesPerSample   back-to-back launches inside one sample
 * @param iterations          all timed launches: {@code samples * launchesPerSample}
 * @param warmupLaunches      launches run before timing and discarded
 * @param flops               counted FLOPs of one launch
 * @param bytes               counted bytes one launch must move
 * @param memoryFloorMs       {@code bytes} at the device's peak DRAM bandwidth; null if the peak is unknown
 * @param peakBandwidthFraction achieved GB/s over the peak; null if the peak is unknown
 * @param rotationCopies      copies of the input set rotated through; null if the case named no rotation
 * @param workingSetBytes     bytes those copies span
 * @param anchor              what this case is compared with; null if nothing
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BenchResult(String name, Map<String, Object> params, String timer, int samples, int launchesPerSample,
                          long iterations, int warmupLaunches, double medianMs, double minMs, double p10Ms,
                          double p90Ms, double maxMs, double meanMs, long flops, long bytes, double achievedTflops,
                          double achievedGBps, Double memoryFloorMs, Double peakBandwidthFraction,
                          Integer rotationCopies, Long workingSetBytes, Anchor anchor) {

    /** Compares this case with another measured one (the vendor library on the same problem, say). */
    public BenchResult withAnchor(BenchResult reference) {
        return withAnchor(reference.name(), reference.medianMs());
    }

    public BenchResult withAnchor(String anchorName, double anchorMedianMs) {
        Anchor newAnchor = new Anchor(anchorName, anchorMedianMs, anchorMedianMs / medianMs);
        return new BenchResult(name, params, timer, samples, launchesPerSample, iterations, warmupLaunches, medianMs,
                minMs, p10Ms, p90Ms, maxMs, meanMs, flops, bytes, achievedTflops, achievedGBps, memoryFloorMs,
                peakBandwidthFraction, rotationCopies, workingSetBytes, newAnchor);
    }
}

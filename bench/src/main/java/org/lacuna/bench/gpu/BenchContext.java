package org.lacuna.bench.gpu;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongConsumer;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.bench.measure.SampleStatistics;
import org.lacuna.bench.measure.Sampler;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.DeviceTimer;

/**
 * What a {@link GpuBenchmark} gets: the open backend, the measurement settings, and the helpers that apply them —
 * {@link #allocateRotating} for cold-cache inputs and {@link #measure} for timed cases.
 */
public final class BenchContext {
    private final Backend backend;
    private final MeasurementPlan plan;
    private final long workingSetTarget;
    private final Optional<DevicePeaks.PeakBandwidth> peakBandwidth;

    public BenchContext(Backend backend, MeasurementPlan plan, long workingSetTarget,
                        Optional<DevicePeaks.PeakBandwidth> peakBandwidth) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.plan = Objects.requireNonNull(plan, "plan");
        this.workingSetTarget = workingSetTarget;
        this.peakBandwidth = Objects.requireNonNull(peakBandwidth, "peakBandwidth");
    }

    public Backend backend() {
        return backend;
    }

    public MeasurementPlan plan() {
        return plan;
    }

    public Optional<DevicePeaks.PeakBandwidth> peakBandwidth() {
        return peakBandwidth;
    }

    /** The rotation for an input set of {@code setBytes}, using at most a quarter of the device's memory. */
    public InputRotation rotationFor(long setBytes) {
        long memoryCap = Math.max(1, backend.device().totalMemoryBytes() / 4);
        return InputRotation.plan(setBytes, workingSetTarget, memoryCap);
    }

    /** Allocates enough copies of {@code specs} that consecutive launches never share cached inputs. */
    public RotatingArrays allocateRotating(List<ArraySpec> specs) {
        return RotatingArrays.allocate(backend, specs, this::rotationFor);
    }

    /** Starts describing a case named {@code name}; finish with {@link Case#measure}. */
    public Case measure(String name) {
        return new Case(name);
    }

    /** A case being described: its parameters, its work, its inputs' rotation, then how to launch it. */
    public final class Case {
        private final String name;
        private final Map<String, Object> params = new LinkedHashMap<>();
        private Work work = Work.of(0, 0);
        private InputRotation rotation;

        private Case(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        public Case param(String key, Object value) {
            params.put(key, value);
            return this;
        }

        public Case work(Work newWork) {
            this.work = Objects.requireNonNull(newWork, "work");
            return this;
        }

        /** Records the rotation the launches cycle through, so the report shows each timing was taken cold. */
        public Case rotation(InputRotation newRotation) {
            this.rotation = newRotation;
            return this;
        }

        public Case rotation(RotatingArrays inputs) {
            return rotation(inputs.rotation());
        }

        /** Times {@code launch} with the backend's timer (CUDA events on the GPU). */
        public BenchResult measure(LongConsumer launch) {
            try (DeviceTimer timer = backend.newTimer()) {
                return summarise("device", new Sampler(plan).sample(timer, launch));
            }
        }

        /** Times host-issued work (transfers) with the host's clock between full synchronisations. */
        public BenchResult measureWallClock(LongConsumer launch) {
            try (DeviceTimer timer = new WallClockTimer(backend)) {
                return summarise("wall-clock", new Sampler(plan).sample(timer, launch));
            }
        }

        private BenchResult summarise(String timerName, Sampler.Samples samples) {
            SampleStatistics stats = samples.statistics();
            double medianMs = stats.median();
            double seconds = medianMs / 1e3;
            double achievedGBps = work.bytes() / seconds / 1e9;
            Double floorMs = peakBandwidth.map(p -> work.bytes() / (p.gigabytesPerSecond() * 1e9) * 1e3).orElse(null);
            Double peakFraction = peakBandwidth.map(p -> achievedGBps / p.gigabytesPerSecond()).orElse(null);
            return new BenchResult(name, new LinkedHashMap<>(params),
                    timerName, stats.count(), samples.launchesPerSample(), samples.timedLaunches(),
                    samples.warmupLaunches(), medianMs, stats.min(), stats.percentile(10), stats.percentile(90),
                    stats.max(), stats.mean(), work.flops(), work.bytes(), work.flops() / seconds / 1e12,
                    achievedGBps, floorMs, peakFraction, rotation == null ? null : rotation.copies(),
                    rotation == null ? null : rotation.workingSetBytes(), null);
        }
    }
}

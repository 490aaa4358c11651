package org.lacuna.bench.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.DeviceTimer;

class SamplerTest {
    /** A device whose launch takes a fixed time: the timer reports it and the host clock advances by it. */
    private static class FakeDevice implements DeviceTimer {
        final AtomicLong clockNanos = new AtomicLong();
        final List<Long> launches = new ArrayList<>();
        double launchMillis;
        long launchesAtStart;

        FakeDevice(double launchMillis) {
            this.launchMillis = launchMillis;
        }

        void launch(long index) {
            launches.add(index);
            clockNanos.addAndGet((long) (launchMillis * 1e6));
        }

        @Override
        public void start() {
            launchesAtStart = launches.size();
        }

        @Override
        public double stopMillis() {
            return (launches.size() - launchesAtStart) * launchMillis;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void warmsUpForTheWarmupTimeThenTakesTheWantedSamples() {
        FakeDevice device = new FakeDevice(2.0);
        MeasurementPlan plan = new MeasurementPlan(3, 100, 50, 10, 10_000, 0.1);
        Sampler.Samples samples = new Sampler(plan, device.clockNanos::get).sample(device, device::launch);

        assertEquals(50, samples.warmupLaunches()); // 100 ms of 2 ms launches
        assertEquals(1, samples.launchesPerSample());
        assertEquals(50, samples.perLaunchMillis().length);
        assertEquals(2.0, samples.statistics().median(), 1e-9);
        assertEquals(100, device.launches.size());
    }

    @Test
    void launchIndicesCountOnFromTheWarmupSoRotationNeverRepeatsACopyBackToBack() {
        FakeDevice device = new FakeDevice(1.0);
        MeasurementPlan plan = new MeasurementPlan(3, 0, 5, 5, 10_000, 0);
        new Sampler(plan, device.clockNanos::get).sample(device, device::launch);
        for (int i = 0; i < device.launches.size(); i++) {
            assertEquals(i, device.launches.get(i));
        }
    }

    @Test
    void tinyLaunchesAreBatchedUntilASampleIsLongEnoughToTime() {
        FakeDevice device = new FakeDevice(0.004);
        MeasurementPlan plan = new MeasurementPlan(3, 0, 20, 5, 10_000, 0.1);
        Sampler.Samples samples = new Sampler(plan, device.clockNanos::get).sample(device, device::launch);

        assertEquals(25, samples.launchesPerSample()); // ceil(0.1 / 0.004)
        assertEquals(0.004, samples.statistics().median(), 1e-9);
        assertEquals(20L * 25, samples.timedLaunches());
    }

    @Test
    void slowLaunchesTakeFewerSamplesButNeverFewerThanTheMinimum() {
        FakeDevice device = new FakeDevice(500);
        MeasurementPlan plan = new MeasurementPlan(2, 0, 100, 5, 3_000, 0.1);
        Sampler.Samples samples = new Sampler(plan, device.clockNanos::get).sample(device, device::launch);

        assertEquals(2, samples.warmupLaunches());
        assertEquals(6, samples.perLaunchMillis().length); // 3000 ms / 500 ms

        device = new FakeDevice(5_000);
        samples = new Sampler(plan, device.clockNanos::get).sample(device, device::launch);
        assertEquals(5, samples.perLaunchMillis().length);
    }

    @Test
    void theEstimateComesFromTheLastWarmupLaunchNotTheSlowFirstOnes() {
        FakeDevice device = new FakeDevice(0.004) {
            @Override
            void launch(long index) {
                launchMillis = index == 0 ? 50 : 0.004; // the first launch compiles the kernel
                super.launch(index);
            }
        };
        MeasurementPlan plan = new MeasurementPlan(3, 0, 10, 5, 10_000, 0.1);
        Sampler.Samples samples = new Sampler(plan, device.clockNanos::get).sample(device, device::launch);
        assertEquals(25, samples.launchesPerSample());
        assertTrue(samples.statistics().max() < 1);
    }

    /** A host clock shared by two kinds of launch; the timer reads the clock, as the CPU backend's host timer does. */
    private static final class SharedClock implements DeviceTimer {
        final AtomicLong nanos = new AtomicLong();
        final List<String> launches = new ArrayList<>();
        /** Multiplies every launch's time: another job's load on the same cores. */
        double load = 1;
        private long started;

        LongConsumer launcher(String name, double millis) {
            return index -> {
                launches.add(name + index);
                nanos.addAndGet((long) (millis * load * 1e6));
            };
        }

        @Override
        public void start() {
            started = nanos.get();
        }

        @Override
        public double stopMillis() {
            return (nanos.get() - started) / 1e6;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void alternatingSamplesTakeTurnsAfterWarmingBothAndEachSideKeepsItsOwnIndices() {
        SharedClock clock = new SharedClock();
        MeasurementPlan plan = new MeasurementPlan(2, 0, 4, 4, 10_000, 0);
        Sampler.Samples[] samples = new Sampler(plan, clock.nanos::get).sampleAlternating(clock,
                clock.launcher("a", 2.0), clock.launcher("b", 5.0));

        assertEquals(List.of("a0", "a1", "b0", "b1", "a2", "b2", "a3", "b3", "a4", "b4", "a5", "b5"), clock.launches);
        assertEquals(2.0, samples[0].statistics().median(), 1e-9);
        assertEquals(5.0, samples[1].statistics().median(), 1e-9);
        assertEquals(2, samples[0].warmupLaunches());
        assertEquals(4, samples[1].perLaunchMillis().length);
    }

    @Test
    void aLoadThatComesAndGoesWhileSamplingSlowsBothSidesAlike() {
        SharedClock clock = new SharedClock();
        MeasurementPlan plan = new MeasurementPlan(1, 0, 30, 30, 10_000, 0);
        LongConsumer fast = clock.launcher("a", 1.0);
        LongConsumer slow = clock.launcher("b", 3.0);
        // Another job loads the machine during the middle third of the sampling (after the two warm-up launches).
        LongConsumer loadedFast = index -> {
            clock.load = clock.launches.size() >= 2 + 20 && clock.launches.size() < 2 + 40 ? 4 : 1;
            fast.accept(index);
        };
        Sampler.Samples[] samples = new Sampler(plan, clock.nanos::get).sampleAlternating(clock, loadedFast, slow);

        long fastLoaded = java.util.Arrays.stream(samples[0].perLaunchMillis()).filter(ms -> ms > 1.0).count();
        long slowLoaded = java.util.Arrays.stream(samples[1].perLaunchMillis()).filter(ms -> ms > 3.0).count();
        assertEquals(10, fastLoaded);
        assertEquals(fastLoaded, slowLoaded);
        assertEquals(3.0, samples[1].statistics().median() / samples[0].statistics().median(), 1e-9);
    }
}

package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
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
}

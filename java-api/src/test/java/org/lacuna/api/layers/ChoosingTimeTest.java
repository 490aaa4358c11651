package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicReference;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.schedule.DeviceKey;
import org.lacuna.runtime.schedule.Policy;
import org.lacuna.runtime.schedule.Scheduler;
import org.lacuna.runtime.schedule.TuningStore;
import org.junit.jupiter.api.Test;

/** A live trial's bookkeeping is spent from the trial budget at the time that is measured on the calling thread. */
class ChoosingTimeTest {
    private static Scheduler scheduler() {
        return new Scheduler(new DeviceKey("cpu", "test CPU", "avx512f", 2, "-"), ScheduledLayersTest.table(),
                TuningStore.inMemory(), Policy.auto(), DeviceTimer::hostClock);
    }

    @Test
    void aVirtualThreadSpendsItsWallTimeWhoseCpuTimeIsNotMeasured() throws InterruptedException {
        Scheduler scheduler = scheduler();
        AtomicReference<Long> cpu = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            cpu.set(ChoosingTime.cpuNanos());
            ChoosingTime.chargeTrial(scheduler, 3_000_000, 0);
        }).join();
        assertEquals(0L, cpu.get(), "a virtual thread's CPU time read as measured");
        assertEquals(3.0, scheduler.trialSpentMillis(), 1e-9, "its bookkeeping escaped the trial budget");
        assertEquals(3_000_000L, scheduler.choosingNanos());
    }
}

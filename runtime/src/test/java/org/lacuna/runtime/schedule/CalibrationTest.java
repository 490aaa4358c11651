package org.lacuna.runtime.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.PrimitiveIterator;
import java.util.stream.DoubleStream;
import org.junit.jupiter.api.Test;

/**
 * The calibration's figures are measured again when implausible, then clamped and said so (a real calibration runs in
 * every module's tests through the session's scheduler, and in the scheduler benchmark, which prints its table).
 */
class CalibrationTest {
    /** A source of scripted measurements that counts how often it was asked. */
    private static final class Script {
        final PrimitiveIterator.OfDouble values;
        int asked;

        Script(double... values) {
            this.values = DoubleStream.of(values).iterator();
        }

        double next() {
            asked++;
            return values.nextDouble();
        }
    }

    @Test
    void aFigureInsideItsBoundsIsTakenAtOnce() {
        List<String> clamped = new ArrayList<>();
        Script script = new Script(12e9, 1, 1);
        assertEquals(12e9, Calibration.sane(Calibration.BANDWIDTH, "", script::next, clamped));
        assertEquals(1, script.asked);
        assertTrue(clamped.isEmpty());
    }

    @Test
    void anImplausibleFigureIsMeasuredAgain() {
        List<String> clamped = new ArrayList<>();
        // A 142 ms "call overhead" (what a loaded machine once produced), then a plausible 3 us.
        Script script = new Script(0.142, 3e-6, 1);
        assertEquals(3e-6, Calibration.sane(Calibration.OVERHEAD, "cpu.csr", script::next, clamped));
        assertEquals(2, script.asked);
        assertTrue(clamped.isEmpty());
    }

    @Test
    void aFigureThatStaysImplausibleIsClampedAndReported() {
        List<String> clamped = new ArrayList<>();
        Script low = new Script(0.3e8, 0.2e8, Double.NaN);
        assertEquals(Calibration.RATE.low(), Calibration.sane(Calibration.RATE, "cpu.two-four", low::next, clamped));
        assertEquals(Calibration.ATTEMPTS, low.asked);
        Script high = new Script(1, 2, 3);
        assertEquals(Calibration.OVERHEAD.high(), Calibration.sane(Calibration.OVERHEAD, "cpu.csr", high::next,
                clamped));
        assertEquals(2, clamped.size());
        assertTrue(clamped.get(0).contains("cpu.two-four rate"), clamped::toString);
        assertTrue(clamped.get(1).contains("cpu.csr call overhead 3.00 ->"), clamped::toString);
    }

    /**
     * A kernel the JIT speeds up round by round, as C1 and then C2 take over: the k-th round of 7 timed calls takes
     * 8 / (k + 1) ms per call, down to 1 ms.
     */
    private static final class WarmingKernel implements org.lacuna.runtime.backend.DeviceTimer, Runnable {
        int timed;

        @Override
        public void run() {
        }

        @Override
        public void start() {
        }

        @Override
        public double stopMillis() {
            timed++;
            return Math.max(1.0, 8.0 / (1 + (timed - 1) / 7));
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aKernelIsTimedOnlyOnceItHasSettled() {
        WarmingKernel kernel = new WarmingKernel();
        double ms = Calibration.time(kernel, kernel);
        assertEquals(1.0, ms, 1e-9, "the settled time, not a still-warming one");
        assertTrue(kernel.timed >= 8 * 7, "rounds went on until two agreed: " + kernel.timed + " timed calls");
    }
    /**
     * A timer whose calls take what the kernel that last ran costs, times a load factor that doubles for a while:
     * a burst of other jobs' load partway through the samples.
     */
    private static final class LoadedMachine implements org.lacuna.runtime.backend.DeviceTimer {
        final java.util.List<String> ran = new java.util.ArrayList<>();
        double kernelMillis;
        int timed;

        Runnable kernel(String name, double millis) {
            return () -> {
                ran.add(name);
                kernelMillis = millis;
            };
        }

        @Override
        public void start() {
        }

        @Override
        public double stopMillis() {
            timed++;
            // Busy for five rounds of the timed half (calls 61 to 75): measured one kernel after the other, the
            // burst would fall on one kernel's samples alone.
            return kernelMillis * (timed > 60 && timed <= 75 ? 3 : 1);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void smallCallsAreTimedInterleavedSoLoadFallsOnEveryKernel() {
        LoadedMachine machine = new LoadedMachine();
        int[] evictions = {0};
        java.util.List<java.util.List<Runnable>> calls = java.util.List.of(
                java.util.List.of(machine.kernel("blas", 1.0), machine.kernel("blas", 1.0)),
                java.util.List.of(machine.kernel("vector", 0.8), machine.kernel("vector", 0.8)),
                java.util.List.of(machine.kernel("two-four", 2.0)));
        double[] medians = Calibration.timeColdInterleaved(machine, calls, () -> evictions[0]++);
        assertEquals(3, medians.length);
        assertEquals(machine.ran.size(), evictions[0], "every timed call follows an eviction");
        // The order survives the burst: the faster kernel still measures faster, by the same ratio.
        assertTrue(medians[1] < medians[0] && medians[0] < medians[2], java.util.Arrays.toString(medians));
        assertEquals(0.8, medians[1] / medians[0], 1e-9, java.util.Arrays.toString(medians));
        assertEquals(java.util.List.of("blas", "vector", "two-four", "vector", "two-four", "blas"),
                machine.ran.subList(0, 6), "each round calls every kernel, the order rotating");
    }
}

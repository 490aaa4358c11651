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
}

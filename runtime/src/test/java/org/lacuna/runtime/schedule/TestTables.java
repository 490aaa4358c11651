package org.lacuna.runtime.schedule;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.lacuna.runtime.backend.DeviceTimer;

/**
 * Deterministic efficiency tables (shaped like an H100 and like the development CPU, but written by hand, so the
 * tests never depend on a measurement) and a scripted clock: a candidate's run sets the time the timer reports.
 */
final class TestTables {
    static final DeviceKey GPU = new DeviceKey("cuda", "test GPU", "sm_90", 132, "12.4");
    static final DeviceKey CPU = new DeviceKey("cpu", "test CPU", "avx512f", 2, "-");

    private TestTables() {
    }

    static EfficiencyTable gpu() {
        Map<String, KernelRate> k = new HashMap<>();
        k.put("cuda.dense", new KernelRate(400e12, 3e12, 5e-6));
        // Sparse tensor cores on the halved products: 1.5x dense at best, never the ideal 2x.
        k.put("cuda.mma.sp", new KernelRate(300e12, 3e12, 5e-6));
        k.put("cuda.wgmma.sp", new KernelRate(350e12, 3e12, 5e-6));
        k.put("cuda.csr", new KernelRate(5e12, 1.5e12, 8e-6));
        k.put("cuda." + ConvolutionCandidates.GATHER_SCATTER, new KernelRate(100e12, 1.5e12, 5e-6));
        for (String implicit : List.of(ConvolutionCandidates.IMPLICIT_UNSORTED, ConvolutionCandidates.IMPLICIT_SORTED,
                ConvolutionCandidates.IMPLICIT_SPLIT)) {
            k.put("cuda." + implicit, new KernelRate(150e12, 3e12, 5e-6));
        }
        return new EfficiencyTable(400e12, 3e12, 5e-6, 132, k, "test table (GPU-shaped)");
    }

    static EfficiencyTable cpu() {
        Map<String, KernelRate> k = new HashMap<>();
        k.put("cpu.blas-dense", new KernelRate(150e9, 20e9, 5e-6));
        k.put("cpu.vector-dense", new KernelRate(120e9, 20e9, 5e-6));
        k.put("cpu.two-four", new KernelRate(60e9, 20e9, 20e-6));
        k.put("cpu.csr", new KernelRate(8e9, 20e9, 10e-6));
        return new EfficiencyTable(150e9, 20e9, 5e-6, 2, k, "test table (CPU-shaped)");
    }

    /** A clock whose every measurement reports what the last candidate run set. */
    static final class ScriptedClock {
        double nextMillis;
        final Map<String, Integer> runs = new HashMap<>();

        DeviceTimer timer() {
            return new DeviceTimer() {
                @Override
                public void start() {
                }

                @Override
                public double stopMillis() {
                    return nextMillis;
                }

                @Override
                public void close() {
                }
            };
        }

        /** The candidates run, in order. */
        final List<String> sequence = new java.util.ArrayList<>();

        /** {@code candidate} bound to a run that "takes" {@code millis}. */
        Candidate taking(Candidate candidate, double millis) {
            return candidate.bound(() -> {
                runs.merge(candidate.name(), 1, Integer::sum);
                sequence.add(candidate.name());
                nextMillis = millis;
            });
        }

        /**
         * {@code candidate} bound to runs that "take" {@code millis} in turn (its first run the first), the last
         * repeated once they are used up.
         */
        Candidate takingInTurn(Candidate candidate, double... millis) {
            return candidate.bound(() -> {
                int run = runs.merge(candidate.name(), 1, Integer::sum) - 1;
                sequence.add(candidate.name());
                nextMillis = millis[Math.min(run, millis.length - 1)];
            });
        }

        int runs(String name) {
            return runs.getOrDefault(name, 0);
        }
    }
}

package org.lacuna.bench.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.lacuna.runtime.error.DeviceOutOfMemoryException;

/**
 * A benchmark over a sweep of cases: each case runs in turn and prints its summary and wall time; a case too big for
 * the device is reported and skipped, not fatal ("memory permitting"), and the sweep goes on.
 *
 * @param <C> the case type
 */
abstract class CaseSweepBenchmark<C> implements GpuBenchmark {
    /** One case's measurements. */
    interface CaseMeasurement<C> {
        List<BenchResult> measure(C c);
    }

    private final String name;

    CaseSweepBenchmark(String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    /** The case's id in the progress lines. */
    abstract String id(C c);

    /** One progress line about a measured case. */
    abstract String summary(C c, List<BenchResult> measured);

    /**
     * Prints the sweep's header ({@code selection} says how the cases were chosen, {@code note} is appended as it is),
     * then measures every case.
     */
    final List<BenchResult> runEach(List<C> cases, String selection, String note, CaseMeasurement<C> run) {
        System.out.printf("   %s: %d case(s), selection '%s'%s%n", name, cases.size(), selection, note);
        List<BenchResult> results = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            C c = cases.get(i);
            long start = System.nanoTime();
            try {
                List<BenchResult> measured = run.measure(c);
                results.addAll(measured);
                System.out.printf(Locale.ROOT, "   [%d/%d] %s (%.1f s)%n", i + 1, cases.size(), summary(c, measured),
                        (System.nanoTime() - start) / 1e9);
            } catch (DeviceOutOfMemoryException e) {
                System.out.printf("   [%d/%d] %s skipped: %s%n", i + 1, cases.size(), id(c), e.getMessage());
            }
        }
        return results;
    }
}

package org.lacuna.bench.cpu;

import java.math.BigDecimal;
import java.util.ListResourceBundle;
import org.lacuna.bench.measure.MeasurementPlan;

/**
 * The help lines of {@code lacuna-bench-cpu} that quote its measurement plans, written from {@link CpuBenchMain}'s
 * plans so that they cannot drift from them. Picocli reads them as the command's resource bundle (keyed by each
 * option's name without dashes), in place of the option's own description.
 */
public final class CpuBenchHelp extends ListResourceBundle {
    @Override
    protected Object[][] getContents() {
        MeasurementPlan quick = CpuBenchMain.QUICK_PLAN;
        return new Object[][] {
                {"quick", "Toy sizes and few samples: a smoke test of the whole flow (the measurement options not given: "
                        + "--samples " + quick.samples() + ", --min-samples " + quick.minSamples() + ", --warmup-ms "
                        + number(quick.warmupMillis()) + ", --max-ms-per-case " + number(quick.maxMeasureMillis())
                        + ")."},
                {"rounds", "Rounds in which Lacuna and PyTorch take turns on each case cpu_anchor.py times, the ratio"
                        + " taken per round and the speed-up their median (default: " + CpuBenchMain.ROUNDS + "; quick: "
                        + CpuBenchMain.QUICK_ROUNDS + "; 1: each side once, still in turn)."},
                {"min-samples", "Samples kept however slow a case (default: " + CpuBenchMain.FULL_PLAN.minSamples()
                        + "; quick: " + quick.minSamples() + ")."},
        };
    }

    /** {@code 5} rather than {@code 5.0}, and {@code 12.5} as it is: as the value would be typed. */
    static String number(double value) {
        return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }
}

package org.lacuna.bench.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The measurement options as a command that mixes them in parses them (as {@code lacuna-gpu-bench} and
 * {@code lacuna-bench-cpu} do): given ones replace the default plan's values.
 */
class MeasurementOptionsTest {
    private static MeasurementPlan parsed(String... args) {
        MeasurementOptions options = new MeasurementOptions(MeasurementPlan.defaults());
        lineOf(options).parseArgs(args);
        return options.over(MeasurementPlan.defaults());
    }

    /** A command line of nothing but {@code options}. */
    private static CommandLine lineOf(MeasurementOptions options) {
        return new CommandLine(new Object() {
            @CommandLine.Mixin
            MeasurementOptions measurement = options;
        });
    }

    @Test
    void noOptionKeepsThePlan() {
        assertEquals(MeasurementPlan.defaults(), parsed());
        MeasurementPlan other = new MeasurementPlan(2, 1, 4, 3, 8, 0);
        assertEquals(other, new MeasurementOptions(MeasurementPlan.defaults()).over(other), "unparsed: none given");
    }

    @Test
    void eachOptionGivenReplacesItsValueAndOnlyIt() {
        MeasurementPlan d = MeasurementPlan.defaults();
        assertEquals(d.withSamples(10).withWarmupMillis(20).withMaxMeasureMillis(300),
                parsed("--samples", "10", "--warmup-ms", "20", "--max-ms-per-case", "300"));
        assertEquals(new MeasurementPlan(d.minWarmupLaunches(), 0.5, d.samples(), d.minSamples(),
                d.maxMeasureMillis(), d.minSampleMillis()), parsed("--warmup-ms", "0.5"));
        assertEquals(4, parsed("--samples", "4").minSamples(), "fewer samples than the kept minimum lower it");
    }

    @Test
    void aValueGivenEqualToTheDefaultStillCounts() {
        MeasurementPlan other = new MeasurementPlan(2, 1, 4, 3, 8, 0);
        MeasurementOptions options = new MeasurementOptions(MeasurementPlan.defaults());
        lineOf(options).parseArgs("--samples", "100");
        assertEquals(other.withSamples(100), options.over(other));
    }
}

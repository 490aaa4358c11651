package org.lacuna.bench.measure;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * How often and how long each case is measured, as a benchmark command's line says (a picocli mixin of
 * {@code lacuna-gpu-bench} and {@code lacuna-bench-cpu}): each option given replaces that value of the plan the
 * command measures by ({@link #over}); the help shows the values of the plan the mixin was made with.
 */
public final class MeasurementOptions {
    /** Null where the command was configured in code rather than parsed: then no option was given. */
    @Spec
    CommandSpec spec;

    @Option(names = "--samples", description = "Samples per case (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--warmup-ms", description = "Warm-up per case, ms, after its first launches (default: "
            + "${DEFAULT-VALUE}).")
    double warmupMillis;

    @Option(names = "--max-ms-per-case", description = "Measured time (on a GPU, the estimated device time) after "
            + "which a case takes fewer samples (default: ${DEFAULT-VALUE}).")
    double maxMeasureMillis;

    /** @param defaults the plan whose values the help shows as the defaults */
    public MeasurementOptions(MeasurementPlan defaults) {
        samples = defaults.samples();
        warmupMillis = defaults.warmupMillis();
        maxMeasureMillis = defaults.maxMeasureMillis();
    }

    /** {@code plan} with the values of the options given on the line; the others keep {@code plan}'s. */
    public MeasurementPlan over(MeasurementPlan plan) {
        MeasurementPlan result = plan;
        if (given("--samples")) {
            result = result.withSamples(samples);
        }
        if (given("--warmup-ms")) {
            result = result.withWarmupMillis(warmupMillis);
        }
        if (given("--max-ms-per-case")) {
            result = result.withMaxMeasureMillis(maxMeasureMillis);
        }
        return result;
    }

    private boolean given(String name) {
        OptionSpec option = spec == null ? null : spec.findOption(name);
        return option != null && !option.originalStringValues().isEmpty();
    }
}

package org.lacuna.bench.cpu;

import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/**
 * The CPU suite's case and anchor selection (a picocli mixin), taken alike by {@code lacuna-bench-cpu}
 * ({@link CpuBenchMain}) and {@code lacuna bench}: which cases run and which peers run beside them.
 */
public final class CpuSuiteOptions {
    @Option(names = "--filter", paramLabel = "REGEX", description = "CPU suite: only the cases whose id matches this "
            + "regular expression.")
    Pattern filter;

    @Option(names = "--no-torch", description = "CPU suite: skip the PyTorch anchors.")
    boolean noTorch;

    @Option(names = "--no-onnx", description = "CPU suite: skip the ONNX Runtime anchor.")
    boolean noOnnx;

    /** Whether the case with this id runs. */
    boolean selects(String caseId) {
        return filter == null || filter.matcher(caseId).find();
    }
}

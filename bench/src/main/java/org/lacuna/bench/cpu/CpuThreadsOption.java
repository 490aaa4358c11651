package org.lacuna.bench.cpu;

import org.lacuna.runtime.backend.LacunaConfig;
import org.lacuna.runtime.cpu.CpuOptions;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code --threads} option of the CPU benchmark commands (a picocli mixin of {@code lacuna-bench-cpu} and
 * {@code lacuna bench}): how many threads every side of a comparison runs on, Lacuna's CPU backend and its peers.
 */
public final class CpuThreadsOption {
    /** Where the CPU backend reads its thread count ({@code CpuOptions}); the environment variable also sets it. */
    public static final String PROPERTY = "lacuna." + CpuOptions.THREADS_KEY;
    static final String ENVIRONMENT = LacunaConfig.environmentName(CpuOptions.THREADS_KEY);

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    private int threads = 2;

    public CpuThreadsOption() {
    }

    /** The option as though {@code --threads count} had been given. */
    public CpuThreadsOption(int count) {
        this.threads = count;
    }

    /** Refuses a count below one while the line is parsed, so no command measures on zero threads. */
    @Option(names = "--threads", defaultValue = "2", description = "CPU threads on every side (default: "
            + "${DEFAULT-VALUE}).")
    void threads(int count) {
        if (count < 1) {
            throw new ParameterException(command.commandLine(), "--threads must be positive, got " + count);
        }
        this.threads = count;
    }

    public int count() {
        return threads;
    }

    /**
     * Makes the count the CPU backend's unless {@code lacuna.cpu.threads} or {@code LACUNA_CPU_THREADS} already
     * says otherwise (an explicit setting wins; a blank one is unset, as the backend reads it); call it before any
     * CPU backend opens, which reads it then.
     */
    public void applyToCpuBackend() {
        if (LacunaConfig.get(CpuOptions.THREADS_KEY).isEmpty()) {
            System.setProperty(PROPERTY, Integer.toString(threads));
        }
    }
}

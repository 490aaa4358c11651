package org.lacuna.bench.cpu;

import picocli.CommandLine.Option;

/**
 * The {@code --threads} option of the CPU benchmark commands (a picocli mixin of {@code lacuna-bench-cpu} and
 * {@code lacuna bench}): how many threads every side of a comparison runs on, Lacuna's CPU backend and its peers.
 */
public final class CpuThreadsOption {
    /** Where the CPU backend reads its thread count ({@code CpuOptions}); the environment variable also sets it. */
    public static final String PROPERTY = "lacuna.cpu.threads";
    static final String ENVIRONMENT = "LACUNA_CPU_THREADS";

    @Option(names = "--threads", description = "CPU threads on every side (default: ${DEFAULT-VALUE}).")
    int threads = 2;

    public CpuThreadsOption() {
    }

    /** The option as though {@code --threads count} had been given. */
    public CpuThreadsOption(int count) {
        this.threads = count;
    }

    public int count() {
        return threads;
    }

    /**
     * Makes the count the CPU backend's unless {@code lacuna.cpu.threads} or {@code LACUNA_CPU_THREADS} already
     * says otherwise (an explicit setting wins); call it before any CPU backend opens, which reads it then.
     */
    public void applyToCpuBackend() {
        if (System.getProperty(PROPERTY) == null && System.getenv(ENVIRONMENT) == null) {
            System.setProperty(PROPERTY, Integer.toString(threads));
        }
    }
}

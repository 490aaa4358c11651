package org.lacuna.runtime.cpu;

import java.util.Locale;
import org.lacuna.runtime.backend.LacunaConfig;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * How the serving CPU backend runs: its thread count, how long its idle threads spin, and which fast paths it may
 * use. Read from {@code lacuna.cpu.threads} / {@code LACUNA_CPU_THREADS}, {@code lacuna.cpu.spinMicros} /
 * {@code LACUNA_CPU_SPIN_MICROS}, {@code lacuna.cpu.vector} and {@code lacuna.cpu.blas} (each {@code true}/{@code
 * false}, default on where the path is available); tests build their own to compare paths and thread counts.
 *
 * @param threads    worker threads for op-level parallelism (the only threads the backend starts; native BLAS runs
 *                   single-threaded inside them, so the cores are never oversubscribed)
 * @param vectorApi  use the {@code jdk.incubator.vector} kernels (needs {@code --add-modules jdk.incubator.vector})
 * @param nativeBlas use the native BLAS for dense GEMM where it loads
 * @param spinMicros how long an idle worker thread, and a caller waiting for the workers' last chunks, spins before
 *                   it parks (0: park at once); spinning keeps a worker ready for the next op of a forward pass at
 *                   the cost of burning its core that long when no op follows
 */
public record CpuOptions(int threads, boolean vectorApi, boolean nativeBlas, int spinMicros) {
    /** A cap on the worker threads (the cap the backend's earlier fork-join pool had). */
    public static final int MAX_THREADS = 32767;
    /** The setting of the thread count: {@code lacuna.cpu.threads} / {@code LACUNA_CPU_THREADS}. */
    public static final String THREADS_KEY = "cpu.threads";
    /**
     * The default spin: longer than the serial stretches between the parallel ops of a batch-1 encoder forward
     * (norms, residual adds and per-op setup run tens of microseconds), short enough that a backend left idle gives
     * its cores back within a fraction of a millisecond.
     */
    public static final int DEFAULT_SPIN_MICROS = 100;
    /** The longest spin accepted: one second. */
    public static final int MAX_SPIN_MICROS = 1_000_000;

    public CpuOptions {
        if (threads < 1 || threads > MAX_THREADS) {
            throw InvalidInputException.argument("CpuOptions", "threads must be in [1, " + MAX_THREADS + "], got "
                    + threads);
        }
        if (spinMicros < 0 || spinMicros > MAX_SPIN_MICROS) {
            throw InvalidInputException.argument("CpuOptions", "spinMicros must be in [0, " + MAX_SPIN_MICROS
                    + "], got " + spinMicros);
        }
    }

    /** With the default spin. */
    public CpuOptions(int threads, boolean vectorApi, boolean nativeBlas) {
        this(threads, vectorApi, nativeBlas, DEFAULT_SPIN_MICROS);
    }

    /** The defaults of this JVM and the settings above. */
    public static CpuOptions fromConfig() {
        int threads = LacunaConfig.get(THREADS_KEY).map(v -> parseInt("lacuna." + THREADS_KEY, v))
                .orElse(Runtime.getRuntime().availableProcessors());
        boolean vector = LacunaConfig.get("cpu.vector").map(CpuOptions::parseFlag).orElse(true);
        boolean blas = LacunaConfig.get("cpu.blas").map(CpuOptions::parseFlag).orElse(true);
        int spin = LacunaConfig.get("cpu.spinMicros").map(v -> parseInt("lacuna.cpu.spinMicros", v))
                .orElse(DEFAULT_SPIN_MICROS);
        return new CpuOptions(threads, vector, blas, spin);
    }

    public CpuOptions withThreads(int count) {
        return new CpuOptions(count, vectorApi, nativeBlas, spinMicros);
    }

    public CpuOptions withSpinMicros(int micros) {
        return new CpuOptions(threads, vectorApi, nativeBlas, micros);
    }

    private static int parseInt(String setting, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw InvalidInputException.argument(setting, "not a number: '" + value + "'");
        }
    }

    private static boolean parseFlag(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "1", "true", "yes", "on" -> true;
            case "0", "false", "no", "off" -> false;
            default -> throw InvalidInputException.argument("lacuna.cpu", "expected true or false, got '" + value + "'");
        };
    }
}

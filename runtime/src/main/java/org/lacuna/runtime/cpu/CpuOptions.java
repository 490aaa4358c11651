package org.lacuna.runtime.cpu;

import java.util.Locale;
import org.lacuna.runtime.backend.LacunaConfig;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * How the serving CPU backend runs: its thread count and which fast paths it may use. Read from
 * {@code lacuna.cpu.threads} / {@code LACUNA_CPU_THREADS}, {@code lacuna.cpu.vector} and {@code lacuna.cpu.blas}
 * (each {@code true}/{@code false}, default on where the path is available); tests build their own to compare paths
 * and thread counts.
 *
 * @param threads   worker threads for op-level parallelism (the only threads the backend starts; native BLAS runs
 *                  single-threaded inside them, so the cores are never oversubscribed)
 * @param vectorApi use the {@code jdk.incubator.vector} kernels (needs {@code --add-modules jdk.incubator.vector})
 * @param nativeBlas use the native BLAS for dense GEMM where it loads
 */
public record CpuOptions(int threads, boolean vectorApi, boolean nativeBlas) {
    /** The most worker threads a {@link java.util.concurrent.ForkJoinPool} takes. */
    public static final int MAX_THREADS = 32767;

    public CpuOptions {
        if (threads < 1 || threads > MAX_THREADS) {
            throw InvalidInputException.argument("CpuOptions", "threads must be in [1, " + MAX_THREADS + "], got "
                    + threads);
        }
    }

    /** The defaults of this JVM and the settings above. */
    public static CpuOptions fromConfig() {
        int threads = LacunaConfig.get("cpu.threads").map(v -> parseThreads(v))
                .orElse(Runtime.getRuntime().availableProcessors());
        boolean vector = LacunaConfig.get("cpu.vector").map(CpuOptions::parseFlag).orElse(true);
        boolean blas = LacunaConfig.get("cpu.blas").map(CpuOptions::parseFlag).orElse(true);
        return new CpuOptions(threads, vector, blas);
    }

    public CpuOptions withThreads(int count) {
        return new CpuOptions(count, vectorApi, nativeBlas);
    }

    private static int parseThreads(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw InvalidInputException.argument("lacuna.cpu.threads", "not a number: '" + value + "'");
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

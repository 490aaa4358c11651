package org.lacuna.runtime.backend;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Settings read from a system property first, then the matching environment variable
 * ({@code lacuna.cacheDir} / {@code LACUNA_CACHE_DIR}).
 */
public final class LacunaConfig {
    private LacunaConfig() {
    }

    /**
     * Looks up {@code lacuna.<key>} then {@code LACUNA_<KEY>} (camel case and dots become underscores, see
     * {@link #environmentName}).
     */
    public static Optional<String> get(String key) {
        String property = System.getProperty("lacuna." + key);
        if (property != null && !property.isBlank()) {
            return Optional.of(property.trim());
        }
        String env = System.getenv(environmentName(key));
        return env == null || env.isBlank() ? Optional.empty() : Optional.of(env.trim());
    }

    public static boolean flag(String key) {
        return get(key).map(v -> v.equals("1") || v.equalsIgnoreCase("true") || v.equalsIgnoreCase("yes")).orElse(false);
    }

    /**
     * {@code cacheDir} → {@code LACUNA_CACHE_DIR}, {@code cpu.spinMicros} → {@code LACUNA_CPU_SPIN_MICROS}: dots
     * become underscores too, as no shell sets a variable with a dot in its name.
     */
    public static String environmentName(String key) {
        return "LACUNA_" + key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").replace('.', '_').toUpperCase(Locale.ROOT);
    }

    /** Backend override: {@code cpu} or {@code cuda}. */
    public static Optional<String> backendOverride() {
        return get("backend").map(s -> s.toLowerCase(Locale.ROOT));
    }

    /** Root of Lacuna's on-disk caches (cubins, extracted native libraries). */
    public static Path cacheRoot() {
        Optional<String> explicit = get("cacheDir");
        if (explicit.isPresent()) {
            return Path.of(explicit.get());
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("lacuna");
    }

    /** Print every kernel source (after specialisation) before it is compiled. */
    public static boolean printSource() {
        return flag("printSource");
    }

    /** Synchronise after every launch so an asynchronous kernel fault is reported at the launch that caused it. */
    public static boolean syncLaunches() {
        return flag("syncLaunches");
    }
}

package org.lacuna.runtime.cpu;

import org.lacuna.runtime.cpu.kernels.VectorModule;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Which fast paths this JVM offers the serving CPU backend, and why one is missing. The Vector API kernels need the
 * incubator module in the boot layer ({@code --add-modules jdk.incubator.vector}); without it every kernel runs its
 * scalar Java path and this says so once in the log and in {@code lacuna info}.
 */
public final class CpuCapabilities {
    /** The JVM flags that unlock every fast path of the CPU backend. */
    public static final String FAST_PATH_FLAGS = "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED";

    private static final boolean VECTOR_MODULE = VectorModule.present();
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private CpuCapabilities() {
    }

    /** Whether the Vector API kernels can run in this JVM. */
    public static boolean vectorApiAvailable() {
        return VECTOR_MODULE;
    }

    /** Whether the options ask for and the JVM allows the Vector API kernels. */
    static boolean useVectorApi(CpuOptions options) {
        return options.vectorApi() && VECTOR_MODULE;
    }

    /** One line: what the serving CPU backend will run with these options, and why a fast path is off. */
    public static String describe(CpuOptions options) {
        String vector;
        if (!options.vectorApi()) {
            vector = "Vector API kernels off (lacuna.cpu.vector=false)";
        } else if (VECTOR_MODULE) {
            vector = "Vector API kernels on";
        } else {
            vector = "Vector API kernels off: jdk.incubator.vector is not in the boot layer (run java with "
                    + "--add-modules jdk.incubator.vector); scalar Java kernels serve";
        }
        return vector + "; " + NativeBlasStatus.describe(options);
    }

    /**
     * The serving CPU backend's line for {@code lacuna info} and its availability probe: threads, fast paths, and
     * the flags to add when the JVM keeps the Vector API kernels off.
     */
    public static String summary(CpuOptions options) {
        String line = options.threads() + " worker threads; " + describe(options) + "; idle threads spin "
                + options.spinMicros() + " µs before parking (lacuna.cpu.spinMicros)";
        return options.vectorApi() && !VECTOR_MODULE ? line + "; for the fast path start java with " + FAST_PATH_FLAGS
                : line;
    }

    /** Logs once per JVM that a fast path is off, with the flags that turn it on. */
    static void warnOnceIfDegraded(CpuOptions options) {
        if (options.vectorApi() && !VECTOR_MODULE && WARNED.compareAndSet(false, true)) {
            System.getLogger("org.lacuna.runtime.cpu").log(System.Logger.Level.WARNING,
                    "lacuna: the CPU backend runs its scalar kernels because jdk.incubator.vector is not enabled; "
                            + "start java with " + FAST_PATH_FLAGS + " for the fast path");
        }
    }
}

package org.lacuna.runtime.cpu;

import java.util.Optional;
import org.lacuna.runtime.internal.cpublas.OpenBlas;
import org.lacuna.runtime.internal.nativelib.Failures;

/**
 * Whether a native BLAS serves dense GEMM on the CPU, and why not. The library is bound once per JVM, on first use;
 * a failure is kept as its one-line reason, and the Java GEMM serves instead.
 */
final class NativeBlasStatus {
    private NativeBlasStatus() {
    }

    /** The bound OpenBLAS, or empty when it does not load in this JVM (see {@link #describe}). */
    static Optional<OpenBlas> library() {
        return Optional.ofNullable(Attempt.LIBRARY);
    }

    static String describe(CpuOptions options) {
        if (!options.nativeBlas()) {
            return "native BLAS off (lacuna.cpu.blas=false); Java GEMM serves";
        }
        if (Attempt.LIBRARY != null) {
            return "native BLAS: " + Attempt.LIBRARY.description();
        }
        return "native BLAS unavailable (" + Attempt.FAILURE + "); Java GEMM serves";
    }

    /** Loaded on first use, so a backend that never runs a dense GEMM never extracts the library. */
    private static final class Attempt {
        static final OpenBlas LIBRARY;
        static final String FAILURE;

        static {
            OpenBlas library = null;
            String failure = null;
            try {
                library = OpenBlas.load();
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable e) {
                // Anything else leaves a clear "unavailable": were it to escape, every later use of this class would
                // be a NoClassDefFoundError.
                failure = Failures.describe(e);
            }
            LIBRARY = library;
            FAILURE = failure;
        }
    }
}

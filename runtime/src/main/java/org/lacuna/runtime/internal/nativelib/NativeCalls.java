package org.lacuna.runtime.internal.nativelib;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;

/** Small helpers shared by the java.lang.foreign bindings. */
@SuppressWarnings("restricted")
public final class NativeCalls {
    private static final long MAX_C_STRING = 1 << 20;

    private NativeCalls() {
    }

    /**
     * Rethrows what {@code MethodHandle.invokeExact} threw. A downcall only throws for a Lacuna bug (a wrong
     * signature), so checked throwables become an {@link ErrorCode#INTERNAL} error naming the call.
     */
    public static RuntimeException rethrow(String call, Throwable thrown) {
        if (thrown instanceof RuntimeException runtime) {
            return runtime;
        }
        if (thrown instanceof Error error) {
            throw error;
        }
        return new LacunaException(ErrorCode.INTERNAL, call, "native call failed: " + thrown, thrown);
    }

    /** Reads a NUL-terminated C string the library owns (e.g. from an error-name function); "" for NULL. */
    public static String cString(MemorySegment pointer) {
        return pointer.address() == 0 ? "" : pointer.reinterpret(MAX_C_STRING).getString(0);
    }
}

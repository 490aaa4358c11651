package org.lacuna.runtime.internal.nativelib;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The handle lifecycle every CUDA library shares (cuBLAS, cuSPARSE): create into an out-pointer, destroy, read an
 * int through an out-pointer, and the library version from its {@code GetProperty}. Each call's status goes to the
 * library's own checker, which names its status codes.
 */
public final class HandleCalls {
    /** Throws the library's exception for a non-success status of {@code call}. */
    @FunctionalInterface
    public interface StatusCheck {
        void check(String call, int status);
    }

    /** A JCuda call {@code status get(int property, int[] out)}, e.g. {@code JCublas2.cublasGetProperty}. */
    @FunctionalInterface
    public interface JcudaPropertyCall {
        int get(int property, int[] out);
    }

    /** Reads one property's value (its status already checked). */
    @FunctionalInterface
    private interface PropertyRead {
        int read(int property) throws Throwable;
    }

    private HandleCalls() {
    }

    /** {@code status create(handle* out)}: the new handle. */
    public static MemorySegment create(MethodHandle create, String call, StatusCheck check) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handleOut = arena.allocate(ADDRESS);
            check.check(call, (int) create.invokeExact(handleOut));
            return handleOut.get(ADDRESS, 0);
        } catch (Throwable e) {
            throw NativeCalls.rethrow(call, e);
        }
    }

    /** {@code status destroy(handle)}. */
    public static void destroy(MethodHandle destroy, MemorySegment handle, String call, StatusCheck check) {
        try {
            check.check(call, (int) destroy.invokeExact(handle));
        } catch (Throwable e) {
            throw NativeCalls.rethrow(call, e);
        }
    }

    /** {@code status get(handle, int* out)}, e.g. GetVersion. */
    public static int readInt(MethodHandle get, MemorySegment handle, String call, StatusCheck check) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            check.check(call, (int) get.invokeExact(handle, value));
            return value.get(JAVA_INT, 0);
        } catch (Throwable e) {
            throw NativeCalls.rethrow(call, e);
        }
    }

    /** "13.1.0" from {@code status GetProperty(libraryPropertyType, int* out)}: needs no handle and no GPU. */
    public static String propertyVersion(MethodHandle getProperty, int[] majorMinorPatch, String call,
                                         StatusCheck check) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            return versionText(majorMinorPatch, call, property -> {
                check.check(call, (int) getProperty.invokeExact(property, value));
                return value.get(JAVA_INT, 0);
            });
        }
    }

    /** As above through JCuda's binding of {@code GetProperty}. */
    public static String propertyVersion(JcudaPropertyCall getProperty, int[] majorMinorPatch, String call,
                                         StatusCheck check) {
        return versionText(majorMinorPatch, call, property -> {
            int[] value = {0};
            check.check(call, getProperty.get(property, value));
            return value[0];
        });
    }

    private static String versionText(int[] majorMinorPatch, String call, PropertyRead read) {
        try {
            StringBuilder text = new StringBuilder();
            for (int property : majorMinorPatch) {
                text.append(text.isEmpty() ? "" : ".").append(read.read(property));
            }
            return text.toString();
        } catch (Throwable e) {
            throw NativeCalls.rethrow(call, e);
        }
    }
}

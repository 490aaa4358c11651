package org.lacuna.runtime.internal.nativelib;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The handle functions a CUDA library (cuBLAS, cuSPARSE) exports under its own prefix, bound through
 * java.lang.foreign: {@code Create}, {@code Destroy}, {@code SetStream}, {@code GetVersion} and {@code GetProperty}.
 * Immutable and shared by all handles of one loaded library; each status goes to the library's own checker.
 */
public final class HandleFunctions {
    private final String create;
    private final String destroy;
    private final String setStream;
    private final String getVersion;
    private final String getProperty;
    private final MethodHandle createHandle;
    private final MethodHandle destroyHandle;
    private final MethodHandle setStreamHandle;
    private final MethodHandle getVersionHandle;
    private final MethodHandle getPropertyHandle;
    private final int[] majorMinorPatch;
    private final HandleCalls.StatusCheck check;

    /**
     * @param prefix          {@code "cublas"} or {@code "cusparse"}
     * @param handleSuffix    the suffix the exported handle functions carry ({@code "_v2"} for cuBLAS), or ""
     * @param majorMinorPatch the library's {@code libraryPropertyType} values for major, minor and patch
     */
    public HandleFunctions(LoadedLibrary library, String prefix, String handleSuffix, int[] majorMinorPatch,
                           HandleCalls.StatusCheck check) {
        create = prefix + "Create" + handleSuffix;
        destroy = prefix + "Destroy" + handleSuffix;
        setStream = prefix + "SetStream" + handleSuffix;
        getVersion = prefix + "GetVersion" + handleSuffix;
        getProperty = prefix + "GetProperty";
        createHandle = library.function(create, FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroyHandle = library.function(destroy, FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setStreamHandle = library.function(setStream, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        getVersionHandle = library.function(getVersion, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        getPropertyHandle = library.function(getProperty, FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        this.majorMinorPatch = majorMinorPatch.clone();
        this.check = check;
    }

    public MemorySegment create() {
        return HandleCalls.create(createHandle, create, check);
    }

    public void destroy(MemorySegment handle) {
        HandleCalls.destroy(destroyHandle, handle, destroy, check);
    }

    /** Makes {@code handle}'s calls run on {@code stream} (a CUstream address, 0 for the default stream). */
    public void setStream(MemorySegment handle, long stream) {
        try {
            check.check(setStream, (int) setStreamHandle.invokeExact(handle, MemorySegment.ofAddress(stream)));
        } catch (Throwable e) {
            throw NativeCalls.rethrow(setStream, e);
        }
    }

    public int version(MemorySegment handle) {
        return HandleCalls.readInt(getVersionHandle, handle, getVersion, check);
    }

    /** "13.1.0": needs no handle and no GPU. */
    public String propertyVersion() {
        return HandleCalls.propertyVersion(getPropertyHandle, majorMinorPatch, getProperty, check);
    }
}

package org.lacuna.runtime.internal.nvrtc;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.lacuna.runtime.error.CudaException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.internal.nativelib.LoadedLibrary;
import org.lacuna.runtime.internal.nativelib.NativeCalls;
import org.lacuna.runtime.internal.nativelib.NativeLoader;

/**
 * NVRTC through java.lang.foreign: binds any NVRTC soname ({@code libnvrtc.so.13}, which JCuda's JNI library cannot
 * link against, or a {@code .so.12}). Thread-safe: the method handles are immutable and each compilation owns its
 * program and native memory.
 */
public final class FfmNvrtc implements NvrtcBinding {
    private static final int NVRTC_SUCCESS = 0;

    private final Path library;
    private final int version;
    private final MethodHandle createProgram;
    private final MethodHandle compileProgram;
    private final MethodHandle getProgramLogSize;
    private final MethodHandle getProgramLog;
    private final MethodHandle getCubinSize;
    private final MethodHandle getCubin;
    private final MethodHandle destroyProgram;
    private final MethodHandle getErrorString;

    private FfmNvrtc(LoadedLibrary nvrtc) {
        this.library = nvrtc.file();
        // nvrtcResult is a C enum: int. size_t is 64-bit on every platform Lacuna runs on.
        createProgram = nvrtc.function("nvrtcCreateProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        compileProgram = nvrtc.function("nvrtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        getProgramLogSize = nvrtc.function("nvrtcGetProgramLogSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        getProgramLog = nvrtc.function("nvrtcGetProgramLog", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        getCubinSize = nvrtc.function("nvrtcGetCUBINSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        getCubin = nvrtc.function("nvrtcGetCUBIN", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        destroyProgram = nvrtc.function("nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        getErrorString = nvrtc.function("nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        MethodHandle nvrtcVersion = nvrtc.function("nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        this.version = queryVersion(nvrtcVersion);
    }

    /**
     * Loads {@code builtins} (if given; NVRTC opens it by soname when compiling, so it must already be loaded when it
     * is not on the loader's path) and {@code nvrtc} by absolute path and binds the NVRTC functions.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException with the loader's message, or naming a missing symbol
     */
    public static FfmNvrtc load(Path nvrtc, Path builtins) {
        if (builtins != null) {
            NativeLoader.load("nvrtc", builtins);
        }
        return new FfmNvrtc(NativeLoader.load("nvrtc", nvrtc));
    }

    @Override
    public String description() {
        return "java.lang.foreign on " + library + " (NVRTC " + version / 1000 + "." + (version % 1000) / 10 + ")";
    }

    @Override
    public int version() {
        return version;
    }

    @Override
    public NvrtcResult compile(String source, String programName, Map<String, String> headers, List<String> options) {
        try (Arena arena = Arena.ofConfined(); Program program = createProgram(arena, source, programName, headers)) {
            MemorySegment optionArray = cStringArray(arena, options);
            int status = (int) compileProgram.invokeExact(program.handle(), options.size(), optionArray);
            String log = programLog(arena, program);
            if (status != NVRTC_SUCCESS) {
                return new NvrtcResult(false, new byte[0], log.isEmpty() ? errorName(status) : log);
            }
            MemorySegment size = arena.allocate(JAVA_LONG);
            check("nvrtcGetCUBINSize", (int) getCubinSize.invokeExact(program.handle(), size));
            MemorySegment cubin = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            check("nvrtcGetCUBIN", (int) getCubin.invokeExact(program.handle(), cubin));
            return new NvrtcResult(true, cubin.asSlice(0, size.get(JAVA_LONG, 0)).toArray(JAVA_BYTE), log);
        } catch (Throwable e) {
            throw NativeCalls.rethrow("nvrtcCompileProgram", e);
        }
    }

    private Program createProgram(Arena arena, String source, String programName, Map<String, String> headers)
            throws Throwable {
        List<String> includeNames = new ArrayList<>(headers.keySet());
        List<String> headerSources = includeNames.stream().map(headers::get).toList();
        MemorySegment handleOut = arena.allocate(ADDRESS);
        // A local, not a conditional inside invokeExact: there it would be typed Object and break the exact match.
        MemorySegment name = programName == null ? MemorySegment.NULL : arena.allocateFrom(programName);
        int status = (int) createProgram.invokeExact(handleOut, arena.allocateFrom(source), name,
                includeNames.size(), cStringArray(arena, headerSources), cStringArray(arena, includeNames));
        check("nvrtcCreateProgram", status);
        return new Program(handleOut.get(ADDRESS, 0));
    }

    private String programLog(Arena arena, Program program) throws Throwable {
        MemorySegment size = arena.allocate(JAVA_LONG);
        check("nvrtcGetProgramLogSize", (int) getProgramLogSize.invokeExact(program.handle(), size));
        long bytes = size.get(JAVA_LONG, 0);
        if (bytes <= 1) {
            return "";
        }
        MemorySegment log = arena.allocate(bytes);
        check("nvrtcGetProgramLog", (int) getProgramLog.invokeExact(program.handle(), log));
        return log.getString(0);
    }

    private static MemorySegment cStringArray(Arena arena, List<String> strings) {
        if (strings.isEmpty()) {
            return MemorySegment.NULL;
        }
        MemorySegment array = arena.allocate(ADDRESS, strings.size());
        for (int i = 0; i < strings.size(); i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
        }
        return array;
    }

    private int queryVersion(MethodHandle nvrtcVersion) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(JAVA_INT);
            MemorySegment minor = arena.allocate(JAVA_INT);
            check("nvrtcVersion", (int) nvrtcVersion.invokeExact(major, minor));
            return major.get(JAVA_INT, 0) * 1000 + minor.get(JAVA_INT, 0) * 10;
        } catch (Throwable e) {
            throw NativeCalls.rethrow("nvrtcVersion", e);
        }
    }

    private void check(String call, int status) {
        if (status != NVRTC_SUCCESS) {
            throw new CudaException(call, status, errorName(status), null);
        }
    }

    private String errorName(int status) {
        try {
            String name = NativeCalls.cString((MemorySegment) getErrorString.invokeExact(status));
            return name.isEmpty() ? "NVRTC_ERROR_" + status : name;
        } catch (Throwable e) {
            throw NativeCalls.rethrow("nvrtcGetErrorString", e);
        }
    }

    /** One nvrtcProgram; destroyed exactly once whatever path the compilation takes. */
    private final class Program implements AutoCloseable {
        private MemorySegment handle;

        Program(MemorySegment handle) {
            this.handle = handle;
        }

        MemorySegment handle() {
            if (handle == null) {
                throw new ResourceClosedException("nvrtcProgram", "NVRTC program");
            }
            return handle;
        }

        @Override
        public void close() {
            if (handle == null) {
                return;
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment handleIn = arena.allocate(ADDRESS);
                handleIn.set(ADDRESS, 0, handle);
                handle = null;
                check("nvrtcDestroyProgram", (int) destroyProgram.invokeExact(handleIn));
            } catch (Throwable e) {
                throw NativeCalls.rethrow("nvrtcDestroyProgram", e);
            }
        }
    }
}

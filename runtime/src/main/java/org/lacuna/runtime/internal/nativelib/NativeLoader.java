package org.lacuna.runtime.internal.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.lacuna.runtime.error.LibraryLoadException;

/**
 * Loads shared libraries by absolute path with {@code dlopen}, keeping {@code dlerror}'s message on failure
 * ({@link SymbolLookup#libraryLookup(Path, Arena)} only says "Cannot open library", which hides the missing
 * dependency or bad ELF header a user needs to see).
 * <p>
 * Libraries stay loaded for the JVM's lifetime: CUDA libraries keep driver state and threads, and unloading one
 * while a handle it made is alive would crash. Loading a library also satisfies, by soname, the JNI libraries of
 * JCuda that link against it, which is how JCuda is bound to a library found by path.
 */
@SuppressWarnings("restricted")
public final class NativeLoader {
    private static final int RTLD_LAZY = 0x1;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle DLOPEN = libcFunction("dlopen",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle DLERROR = libcFunction("dlerror", FunctionDescriptor.of(ValueLayout.ADDRESS));
    private static final MethodHandle DLSYM = libcFunction("dlsym",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final long MAX_C_STRING = 1 << 20;
    private static final ConcurrentHashMap<Path, LoadedLibrary> LOADED = new ConcurrentHashMap<>();

    private NativeLoader() {
    }

    /**
     * Loads {@code file} (once per JVM; later calls return the same library).
     *
     * @param library short name for the error, e.g. {@code cublas}
     * @throws LibraryLoadException with the dynamic loader's own message
     */
    public static LoadedLibrary load(String library, Path file) {
        Path absolute = file.toAbsolutePath().normalize();
        return LOADED.computeIfAbsent(absolute, path -> open(library, path));
    }

    /**
     * Loads {@code file} after its companion library {@code companionSoname} (cuBLAS's libcublasLt, cuSPARSE's
     * libnvJitLink) when that is found beside it or in a sibling pip wheel, so the dynamic loader resolves the
     * companion to the same installation.
     */
    public static LoadedLibrary loadAfterCompanion(String library, Path file, Optional<String> companionSoname) {
        companionSoname.flatMap(soname -> Sonames.findDependency(file, soname))
                .ifPresent(companion -> load(library, companion));
        return load(library, file);
    }

    private static LoadedLibrary open(String library, Path file) {
        if (DLOPEN == null || DLERROR == null || DLSYM == null) {
            try {
                return new LoadedLibrary(library, file, SymbolLookup.libraryLookup(file, Arena.global()));
            } catch (IllegalArgumentException e) {
                throw new LibraryLoadException(library, e.getMessage(), e);
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) DLOPEN.invokeExact(arena.allocateFrom(file.toString()), RTLD_LAZY);
            if (handle.address() == 0) {
                // dlerror is per thread and read right after the failed dlopen on the same thread.
                MemorySegment error = (MemorySegment) DLERROR.invokeExact();
                String text = error.address() == 0 ? "dlopen failed" : error.reinterpret(MAX_C_STRING).getString(0);
                throw new LibraryLoadException(library, text, null);
            }
            return new LoadedLibrary(library, file, symbolsOf(handle));
        } catch (LibraryLoadException e) {
            throw e;
        } catch (Throwable e) {
            throw new LibraryLoadException(library, "dlopen " + file + ": " + Failures.describe(e), e);
        }
    }

    private static SymbolLookup symbolsOf(MemorySegment handle) {
        return name -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment address = (MemorySegment) DLSYM.invokeExact(handle, arena.allocateFrom(name));
                return address.address() == 0 ? Optional.empty() : Optional.of(address);
            } catch (Throwable e) {
                return Optional.empty();
            }
        };
    }

    private static MethodHandle libcFunction(String name, FunctionDescriptor descriptor) {
        return LINKER.defaultLookup().find(name).map(address -> LINKER.downcallHandle(address, descriptor)).orElse(null);
    }
}

package org.lacuna.runtime.internal.nativelib;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A CUDA library with handles (cuBLAS, cuSPARSE) bound through java.lang.foreign: the file it was loaded from, its
 * handle functions, the version it reports (read once, when bound) and its own downcalls {@code F}. Immutable and
 * shared by all its handles. A subclass implements the library's interface and opens handles with
 * {@link #openHandle}.
 *
 * @param <F> the library's own downcall handles
 */
public abstract class FfmLibrary<F> {
    private final String name;
    private final Path file;
    private final HandleFunctions handles;
    private final String version;
    private final F functions;

    /**
     * Loads the library (its companion of the same major version first, when found beside it or in a sibling pip
     * wheel) and binds its handle functions and its own. Needs no GPU.
     *
     * @param name            the library as its description names it, e.g. {@code "cuBLAS"}
     * @param prefix          the exported functions' prefix, also the loader's name for it, e.g. {@code "cublas"}
     * @param companion       the soname stem of the companion, e.g. {@code "libcublasLt"}
     * @param handleSuffix    the suffix the exported handle functions carry ({@code "_v2"} for cuBLAS), or ""
     * @param majorMinorPatch the library's {@code libraryPropertyType} values for major, minor and patch
     * @param functions       binds the library's own functions
     * @throws org.lacuna.runtime.error.LibraryLoadException with the loader's message, or naming a missing symbol
     */
    protected FfmLibrary(String name, String prefix, Path library, String companion, String handleSuffix,
                         int[] majorMinorPatch, HandleCalls.StatusCheck check, Function<LoadedLibrary, F> functions) {
        LoadedLibrary loaded = NativeLoader.loadAfterCompanion(prefix, library, Sonames.sameMajor(library, companion));
        this.name = name;
        this.file = loaded.file();
        this.handles = new HandleFunctions(loaded, prefix, handleSuffix, majorMinorPatch, check);
        this.functions = functions.apply(loaded);
        this.version = handles.propertyVersion();
    }

    /** Which binding on which file, with the library's version. */
    public final String description() {
        return "java.lang.foreign on " + file + " (" + name + " " + version + ")";
    }

    /**
     * Creates a handle in the calling thread's current CUDA context, reads its version and wraps both; if reading the
     * version or wrapping fails, the handle is destroyed (see {@link LibraryHandle#open}).
     */
    protected final <T> T openHandle(BiFunction<Handle<F>, Integer, T> wrap) {
        return LibraryHandle.open(handles::create, handles::version,
                (segment, handleVersion) -> wrap.apply(new Handle<>(this, segment), handleVersion), handles::destroy);
    }

    /** One handle of the library: what its calls need. */
    public record Handle<F>(FfmLibrary<F> library, MemorySegment segment) {
        public F functions() {
            return library.functions;
        }

        /** Makes the handle's calls run on {@code stream} (a CUstream address, 0 for the default stream). */
        public void setStream(long stream) {
            library.handles.setStream(segment, stream);
        }

        public void destroy() {
            library.handles.destroy(segment);
        }
    }
}

package org.lacuna.runtime.internal.blas;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import org.lacuna.runtime.internal.nativelib.HandleFunctions;
import org.lacuna.runtime.internal.nativelib.LibraryHandle;
import org.lacuna.runtime.internal.nativelib.LoadedLibrary;
import org.lacuna.runtime.internal.nativelib.NativeCalls;
import org.lacuna.runtime.internal.nativelib.NativeLoader;
import org.lacuna.runtime.internal.nativelib.Sonames;

/**
 * cuBLAS through java.lang.foreign: binds {@code libcublas.so.13} (which JCuda's JNI library cannot link against) or
 * any other soname. The v2 API's exported names carry the {@code _v2} suffix that cublas_v2.h's macros hide
 * ({@code cublasCreate_v2}, {@code cublasSetStream_v2}, ...); {@code cublasGemmEx} has none.
 * One instance owns one handle; calls on it are serialised because a handle's stream is part of its state.
 */
public final class FfmBlas extends BlasHandle {
    private final Library library;
    private final MemorySegment handle;

    private FfmBlas(Library library, MemorySegment handle, int version) {
        super(library.description(), version);
        this.library = library;
        this.handle = handle;
    }

    /**
     * Loads {@code libcublas} (its {@code libcublasLt} of the same major version first, when found beside it or in a
     * sibling pip wheel) and binds the functions Lacuna calls. Needs no GPU.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException with the loader's message, or naming a missing symbol
     */
    public static BlasLibrary bind(Path libcublas) {
        Functions functions = new Functions(NativeLoader.loadAfterCompanion("cublas", libcublas,
                Sonames.sameMajor(libcublas, "libcublasLt")));
        return new Library(functions, functions.handles.propertyVersion());
    }

    @Override
    protected void runGemmEx(long stream, boolean transA, boolean transB, int m, int n, int k, float alpha,
                             long a, int lda, long b, int ldb, float beta, long c, int ldc, GemmArguments types) {
        Functions functions = library.functions();
        try (Arena arena = Arena.ofConfined()) {
            functions.handles.setStream(handle, stream);
            // The handle is in host pointer mode (cuBLAS's default, never changed here): alpha and beta are host floats.
            MemorySegment alphaHost = arena.allocateFrom(JAVA_FLOAT, alpha);
            MemorySegment betaHost = arena.allocateFrom(JAVA_FLOAT, beta);
            CublasStatus.check("cublasGemmEx", (int) functions.gemmEx.invokeExact(handle,
                    CublasConstants.operation(transA), CublasConstants.operation(transB), m, n, k,
                    alphaHost, MemorySegment.ofAddress(a), types.aType(), lda,
                    MemorySegment.ofAddress(b), types.bType(), ldb,
                    betaHost, MemorySegment.ofAddress(c), types.cType(), ldc,
                    CublasConstants.CUBLAS_COMPUTE_32F, CublasConstants.CUBLAS_GEMM_DEFAULT));
        } catch (Throwable e) {
            throw NativeCalls.rethrow("cublasGemmEx", e);
        }
    }

    @Override
    protected void destroy() {
        library.functions().handles.destroy(handle);
    }

    /** The bound library: opens handles. */
    record Library(Functions functions, String cublasVersion) implements BlasLibrary {
        @Override
        public String description() {
            return "java.lang.foreign on " + functions.file + " (cuBLAS " + cublasVersion + ")";
        }

        @Override
        public BlasBinding open() {
            HandleFunctions handles = functions.handles;
            return LibraryHandle.open(handles::create, handles::version,
                    (handle, version) -> new FfmBlas(this, handle, version), handles::destroy);
        }
    }

    /** Downcall handles of one loaded libcublas; immutable and shared by all its handles. */
    static final class Functions {
        private final Path file;
        private final HandleFunctions handles;
        private final MethodHandle gemmEx;

        Functions(LoadedLibrary cublas) {
            file = cublas.file();
            // cublas_v2.h's macros hide the _v2 suffix of the handle functions; GetProperty has none.
            handles = new HandleFunctions(cublas, "cublas", "_v2", new int[] {CublasConstants.MAJOR_VERSION,
                    CublasConstants.MINOR_VERSION, CublasConstants.PATCH_LEVEL}, CublasStatus::check);
            // handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc, computeType, algo
            gemmEx = cublas.function("cublasGemmEx", FunctionDescriptor.of(JAVA_INT,
                    ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                    ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                    ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        }
    }
}

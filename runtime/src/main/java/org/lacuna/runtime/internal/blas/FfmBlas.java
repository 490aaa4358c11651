package org.lacuna.runtime.internal.blas;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import org.lacuna.runtime.internal.nativelib.HandleCalls;
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
        return new Library(functions, functions.propertyVersion());
    }

    @Override
    protected void runGemmEx(long stream, boolean transA, boolean transB, int m, int n, int k, float alpha,
                             long a, int lda, long b, int ldb, float beta, long c, int ldc, GemmArguments types) {
        Functions functions = library.functions();
        try (Arena arena = Arena.ofConfined()) {
            CublasStatus.check("cublasSetStream_v2",
                    (int) functions.setStream.invokeExact(handle, MemorySegment.ofAddress(stream)));
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
        library.functions().destroy(handle);
    }

    /** The bound library: opens handles. */
    record Library(Functions functions, String cublasVersion) implements BlasLibrary {
        @Override
        public String description() {
            return "java.lang.foreign on " + functions.file + " (cuBLAS " + cublasVersion + ")";
        }

        @Override
        public BlasBinding open() {
            return LibraryHandle.open(functions::create, functions::version,
                    (handle, version) -> new FfmBlas(this, handle, version), functions::destroy);
        }
    }

    /** Downcall handles of one loaded libcublas; immutable and shared by all its handles. */
    static final class Functions {
        private final Path file;
        private final MethodHandle create;
        private final MethodHandle destroy;
        private final MethodHandle setStream;
        private final MethodHandle getVersion;
        private final MethodHandle getProperty;
        private final MethodHandle gemmEx;

        Functions(LoadedLibrary cublas) {
            file = cublas.file();
            create = cublas.function("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            destroy = cublas.function("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            setStream = cublas.function("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            getVersion = cublas.function("cublasGetVersion_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            getProperty = cublas.function("cublasGetProperty", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
            // handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc, computeType, algo
            gemmEx = cublas.function("cublasGemmEx", FunctionDescriptor.of(JAVA_INT,
                    ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                    ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                    ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        }

        MemorySegment create() {
            return HandleCalls.create(create, "cublasCreate_v2", CublasStatus::check);
        }

        void destroy(MemorySegment handle) {
            HandleCalls.destroy(destroy, handle, "cublasDestroy_v2", CublasStatus::check);
        }

        int version(MemorySegment handle) {
            return HandleCalls.readInt(getVersion, handle, "cublasGetVersion_v2", CublasStatus::check);
        }

        /** "13.1.0": needs no handle and no GPU. */
        String propertyVersion() {
            return HandleCalls.propertyVersion(getProperty, new int[] {CublasConstants.MAJOR_VERSION,
                    CublasConstants.MINOR_VERSION, CublasConstants.PATCH_LEVEL}, "cublasGetProperty", CublasStatus::check);
        }
    }
}

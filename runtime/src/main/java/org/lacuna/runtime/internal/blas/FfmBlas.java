package org.lacuna.runtime.internal.blas;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import org.lacuna.runtime.internal.nativelib.FfmLibrary;
import org.lacuna.runtime.internal.nativelib.LoadedLibrary;
import org.lacuna.runtime.internal.nativelib.NativeCalls;

/**
 * cuBLAS through java.lang.foreign: binds {@code libcublas.so.13} (which JCuda's JNI library cannot link against) or
 * any other soname. The v2 API's exported names carry the {@code _v2} suffix that cublas_v2.h's macros hide
 * ({@code cublasCreate_v2}, {@code cublasSetStream_v2}, ...); {@code cublasGemmEx} has none.
 * One instance owns one handle; calls on it are serialised because a handle's stream is part of its state.
 */
public final class FfmBlas extends BlasHandle {
    private final FfmLibrary.Handle<Functions> handle;

    private FfmBlas(FfmLibrary.Handle<Functions> handle, int version) {
        super(handle.library().description(), version);
        this.handle = handle;
    }

    /**
     * Loads {@code libcublas} (its {@code libcublasLt} of the same major version first, when found beside it or in a
     * sibling pip wheel) and binds the functions Lacuna calls. Needs no GPU.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException with the loader's message, or naming a missing symbol
     */
    public static BlasLibrary bind(Path libcublas) {
        return new Library(libcublas);
    }

    @Override
    protected void runGemmEx(long stream, boolean transA, boolean transB, int m, int n, int k, float alpha,
                             long a, int lda, long b, int ldb, float beta, long c, int ldc, GemmArguments types) {
        Functions functions = handle.functions();
        try (Arena arena = Arena.ofConfined()) {
            handle.setStream(stream);
            // The handle is in host pointer mode (cuBLAS's default, never changed here): alpha and beta are host floats.
            MemorySegment alphaHost = arena.allocateFrom(JAVA_FLOAT, alpha);
            MemorySegment betaHost = arena.allocateFrom(JAVA_FLOAT, beta);
            CublasStatus.check("cublasGemmEx", (int) functions.gemmEx.invokeExact(handle.segment(),
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
        handle.destroy();
    }

    /** The bound library (its handle functions and {@code cublasGemmEx}): opens handles. */
    static final class Library extends FfmLibrary<Functions> implements BlasLibrary {
        Library(Path libcublas) {
            // cublas_v2.h's macros hide the _v2 suffix of the handle functions; GetProperty has none.
            super("cuBLAS", "cublas", libcublas, "libcublasLt", "_v2", new int[] {CublasConstants.MAJOR_VERSION,
                    CublasConstants.MINOR_VERSION, CublasConstants.PATCH_LEVEL}, CublasStatus::check, Functions::new);
        }

        @Override
        public BlasBinding open() {
            return openHandle(FfmBlas::new);
        }
    }

    /** cuBLAS's own downcall handles, beside its handle functions. */
    static final class Functions {
        private final MethodHandle gemmEx;

        Functions(LoadedLibrary cublas) {
            // handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc, computeType, algo
            gemmEx = cublas.function("cublasGemmEx", FunctionDescriptor.of(JAVA_INT,
                    ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                    ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                    ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        }
    }
}

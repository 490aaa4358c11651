package org.lacuna.runtime.internal.blas;

import java.nio.file.Path;
import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import org.lacuna.runtime.internal.nativelib.HandleCalls;
import org.lacuna.runtime.internal.nativelib.JcudaPointers;
import org.lacuna.runtime.internal.nativelib.JcudaSlot;
import org.lacuna.runtime.internal.nativelib.LibraryHandle;
import org.lacuna.runtime.internal.nativelib.NativeLoader;
import org.lacuna.runtime.internal.nativelib.Sonames;

/**
 * cuBLAS through JCuda's JCublas2, whose JNI library links against {@code libcublas.so.12} by soname: the library
 * (and its {@code libcublasLt} of the same major version) is loaded by absolute path first, so JCublas2 binds to that file.
 * One instance owns one handle; calls on it are serialised because a handle's stream is part of its state.
 */
public final class JcudaBlas extends BlasHandle {
    private static final JcudaSlot<Library> JCUBLAS2 = new JcudaSlot<>("cublas", "JCuda JCublas2");

    private final cublasHandle handle;

    private JcudaBlas(Library library, cublasHandle handle, int version) {
        super(library.description(), version);
        this.handle = handle;
    }

    /**
     * Loads {@code libcublas} (a .so.12) and binds JCublas2 to it; once per JVM, as JCublas2 cannot switch files.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException or {@link UnsatisfiedLinkError} with the loader's message
     */
    public static BlasLibrary bind(Path libcublas) {
        return JCUBLAS2.bind(libcublas, JcudaBlas::load);
    }

    private static Library load(Path libcublas) {
        NativeLoader.loadAfterCompanion("cublas", libcublas, Sonames.sameMajor(libcublas, "libcublasLt"));
        JCublas2.setExceptionsEnabled(false);
        JCublas2.initialize();
        return new Library(libcublas.toAbsolutePath(), HandleCalls.propertyVersion(JCublas2::cublasGetProperty,
                new int[] {CublasConstants.MAJOR_VERSION, CublasConstants.MINOR_VERSION, CublasConstants.PATCH_LEVEL},
                "cublasGetProperty", CublasStatus::check));
    }

    @Override
    protected void runGemmEx(long stream, boolean transA, boolean transB, int m, int n, int k, float alpha,
                             long a, int lda, long b, int ldb, float beta, long c, int ldc, GemmArguments types) {
        CublasStatus.check("cublasSetStream_v2", JCublas2.cublasSetStream(handle, JcudaPointers.stream(stream)));
        CublasStatus.check("cublasGemmEx", JCublas2.cublasGemmEx(handle,
                CublasConstants.operation(transA), CublasConstants.operation(transB), m, n, k,
                Pointer.to(new float[] {alpha}), JcudaPointers.device(a), types.aType(), lda,
                JcudaPointers.device(b), types.bType(), ldb,
                Pointer.to(new float[] {beta}), JcudaPointers.device(c), types.cType(), ldc,
                CublasConstants.CUBLAS_COMPUTE_32F, CublasConstants.CUBLAS_GEMM_DEFAULT));
    }

    @Override
    protected void destroy() {
        CublasStatus.check("cublasDestroy_v2", JCublas2.cublasDestroy(handle));
    }

    /** The bound library: opens handles. */
    record Library(Path file, String cublasVersion) implements BlasLibrary {
        @Override
        public String description() {
            return "JCuda JCublas2 on " + file + " (cuBLAS " + cublasVersion + ")";
        }

        @Override
        public BlasBinding open() {
            return LibraryHandle.open(Library::createHandle, Library::handleVersion,
                    (handle, version) -> new JcudaBlas(this, handle, version), JCublas2::cublasDestroy);
        }

        private static cublasHandle createHandle() {
            cublasHandle created = new cublasHandle();
            CublasStatus.check("cublasCreate_v2", JCublas2.cublasCreate(created));
            return created;
        }

        private static int handleVersion(cublasHandle handle) {
            int[] version = {0};
            CublasStatus.check("cublasGetVersion_v2", JCublas2.cublasGetVersion(handle, version));
            return version[0];
        }
    }
}

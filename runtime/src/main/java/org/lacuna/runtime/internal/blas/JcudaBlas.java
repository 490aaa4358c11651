package org.lacuna.runtime.internal.blas;

import java.nio.file.Path;
import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.internal.nativelib.JcudaPointers;
import org.lacuna.runtime.internal.nativelib.JcudaSlot;
import org.lacuna.runtime.internal.nativelib.LibraryHandle;
import org.lacuna.runtime.internal.nativelib.NativeLoader;
import org.lacuna.runtime.internal.nativelib.Sonames;

/**
 * cuBLAS through JCuda's JCublas2, whose JNI library links against {@code libcublas.so.12} by soname: the library
 * (and its {@code libcublasLt.so.12}) is loaded by absolute path first, so JCublas2 binds to that file.
 * One instance owns one handle; calls on it are serialised because a handle's stream is part of its state.
 */
public final class JcudaBlas extends LibraryHandle implements BlasBinding {
    private static final JcudaSlot<Library> JCUBLAS2 = new JcudaSlot<>("cublas", "JCuda JCublas2");

    private final cublasHandle handle;

    private JcudaBlas(Library library, cublasHandle handle, int version) {
        super("cuBLAS handle", library.description(), version);
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
        Sonames.findDependency(libcublas, "libcublasLt.so.12").ifPresent(lt -> NativeLoader.load("cublas", lt));
        NativeLoader.load("cublas", libcublas);
        JCublas2.setExceptionsEnabled(false);
        JCublas2.initialize();
        int[] major = {0};
        int[] minor = {0};
        int[] patch = {0};
        CublasStatus.check("cublasGetProperty", JCublas2.cublasGetProperty(CublasConstants.MAJOR_VERSION, major));
        CublasStatus.check("cublasGetProperty", JCublas2.cublasGetProperty(CublasConstants.MINOR_VERSION, minor));
        CublasStatus.check("cublasGetProperty", JCublas2.cublasGetProperty(CublasConstants.PATCH_LEVEL, patch));
        return new Library(libcublas.toAbsolutePath(), major[0] + "." + minor[0] + "." + patch[0]);
    }

    @Override
    public synchronized void gemmEx(long stream, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                    long a, DType aType, int lda, long b, DType bType, int ldb,
                                    float beta, long c, DType cType, int ldc) {
        ensureOpen("cublasGemmEx");
        GemmArguments types = GemmArguments.check(transA, transB, m, n, k, a, aType, lda, b, bType, ldb, c, cType, ldc);
        if (m == 0 || n == 0) {
            return;
        }
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
            cublasHandle created = new cublasHandle();
            CublasStatus.check("cublasCreate_v2", JCublas2.cublasCreate(created));
            return LibraryHandle.adopt(created, handle -> {
                int[] version = {0};
                CublasStatus.check("cublasGetVersion_v2", JCublas2.cublasGetVersion(handle, version));
                return new JcudaBlas(this, handle, version[0]);
            }, JCublas2::cublasDestroy);
        }
    }
}

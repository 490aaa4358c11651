package org.lacuna.runtime.internal.sparse;

import java.nio.file.Path;
import jcuda.Pointer;
import jcuda.jcusparse.JCusparse;
import jcuda.jcusparse.cusparseDnMatDescr;
import jcuda.jcusparse.cusparseHandle;
import jcuda.jcusparse.cusparseSpMatDescr;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.internal.nativelib.HandleCalls;
import org.lacuna.runtime.internal.nativelib.JcudaPointers;
import org.lacuna.runtime.internal.nativelib.JcudaSlot;
import org.lacuna.runtime.internal.nativelib.LibraryHandle;
import org.lacuna.runtime.internal.nativelib.NativeLoader;
import org.lacuna.runtime.internal.nativelib.Sonames;

/**
 * cuSPARSE's generic SpMM on CSR through JCuda's JCusparse, whose JNI library links against {@code libcusparse.so.12}
 * by soname: the library (and its {@code libnvJitLink} of the same major version) is loaded by absolute path first, so JCusparse binds
 * to that file. One instance owns one handle; calls on it are serialised because a handle's stream is part of its
 * state. Matrix descriptors live only for one call and are destroyed on every path.
 */
public final class JcudaSparse extends SparseHandle {
    private static final JcudaSlot<Library> JCUSPARSE = new JcudaSlot<>("cusparse", "JCuda JCusparse");

    private final cusparseHandle handle;

    private JcudaSparse(Library library, cusparseHandle handle, int version) {
        super(library.description(), version);
        this.handle = handle;
    }

    /**
     * Loads {@code libcusparse} (a .so.12) and binds JCusparse to it; once per JVM, as JCusparse cannot switch files.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException or {@link UnsatisfiedLinkError} with the loader's message
     */
    public static SparseLibrary bind(Path libcusparse) {
        return JCUSPARSE.bind(libcusparse, JcudaSparse::load);
    }

    private static Library load(Path libcusparse) {
        NativeLoader.loadAfterCompanion("cusparse", libcusparse, Sonames.sameMajor(libcusparse, "libnvJitLink"));
        JCusparse.setExceptionsEnabled(false);
        JCusparse.initialize();
        return new Library(libcusparse.toAbsolutePath(), HandleCalls.propertyVersion(JCusparse::cusparseGetProperty,
                new int[] {CusparseConstants.MAJOR_VERSION, CusparseConstants.MINOR_VERSION,
                        CusparseConstants.PATCH_LEVEL}, "cusparseGetProperty", CusparseStatus::check));
    }

    @Override
    protected void runSpmmCsr(long stream, int m, int n, int k, long nnz, long rowOffsets, long columnIndices,
                              long values, long b, long c, DenseOrder order, float alpha, float beta,
                              DeviceScratch scratch, SpmmArguments types) {
        try (CsrDescriptor matA = CsrDescriptor.create(m, k, nnz, rowOffsets, columnIndices, values, types.valueType());
             DenseDescriptor matB = DenseDescriptor.create(k, n, b, types.bType(), order);
             DenseDescriptor matC = DenseDescriptor.create(m, n, c, types.cType(), order)) {
            CusparseStatus.check("cusparseSetStream", JCusparse.cusparseSetStream(handle, JcudaPointers.stream(stream)));
            Pointer alphaHost = Pointer.to(new float[] {alpha});
            Pointer betaHost = Pointer.to(new float[] {beta});
            long[] bufferSize = {0};
            CusparseStatus.check("cusparseSpMM_bufferSize", JCusparse.cusparseSpMM_bufferSize(handle,
                    CusparseConstants.CUSPARSE_OPERATION_NON_TRANSPOSE, CusparseConstants.CUSPARSE_OPERATION_NON_TRANSPOSE,
                    alphaHost, matA.handle().asConst(), matB.handle().asConst(), betaHost, matC.handle(),
                    CusparseConstants.COMPUTE_32F, CusparseConstants.CUSPARSE_SPMM_ALG_DEFAULT, bufferSize));
            long workspace = bufferSize[0] > 0 ? scratch.acquire(bufferSize[0]) : 0;
            CusparseStatus.check("cusparseSpMM", JCusparse.cusparseSpMM(handle,
                    CusparseConstants.CUSPARSE_OPERATION_NON_TRANSPOSE, CusparseConstants.CUSPARSE_OPERATION_NON_TRANSPOSE,
                    alphaHost, matA.handle().asConst(), matB.handle().asConst(), betaHost, matC.handle(),
                    CusparseConstants.COMPUTE_32F, CusparseConstants.CUSPARSE_SPMM_ALG_DEFAULT,
                    JcudaPointers.device(workspace)));
        }
    }

    @Override
    protected void destroy() {
        CusparseStatus.check("cusparseDestroy", JCusparse.cusparseDestroy(handle));
    }

    /** The bound library: opens handles. */
    record Library(Path file, String cusparseVersion) implements SparseLibrary {
        @Override
        public String description() {
            return "JCuda JCusparse on " + file + " (cuSPARSE " + cusparseVersion + ")";
        }

        @Override
        public SparseBinding open() {
            return LibraryHandle.open(Library::createHandle, Library::handleVersion,
                    (handle, version) -> new JcudaSparse(this, handle, version), JCusparse::cusparseDestroy);
        }

        private static cusparseHandle createHandle() {
            cusparseHandle created = new cusparseHandle();
            CusparseStatus.check("cusparseCreate", JCusparse.cusparseCreate(created));
            return created;
        }

        private static int handleVersion(cusparseHandle handle) {
            int[] version = {0};
            CusparseStatus.check("cusparseGetVersion", JCusparse.cusparseGetVersion(handle, version));
            return version[0];
        }
    }

    /** A CSR descriptor with int32 indices and base 0, destroyed exactly once. */
    private static final class CsrDescriptor implements AutoCloseable {
        private cusparseSpMatDescr handle;

        private CsrDescriptor(cusparseSpMatDescr handle) {
            this.handle = handle;
        }

        static CsrDescriptor create(int rows, int cols, long nnz, long rowOffsets, long columnIndices, long values,
                                    int valueType) {
            cusparseSpMatDescr descriptor = new cusparseSpMatDescr();
            CusparseStatus.check("cusparseCreateCsr", JCusparse.cusparseCreateCsr(descriptor, rows, cols, nnz,
                    JcudaPointers.device(rowOffsets), JcudaPointers.device(columnIndices), JcudaPointers.device(values),
                    CusparseConstants.CUSPARSE_INDEX_32I, CusparseConstants.CUSPARSE_INDEX_32I,
                    CusparseConstants.CUSPARSE_INDEX_BASE_ZERO, valueType));
            return new CsrDescriptor(descriptor);
        }

        cusparseSpMatDescr handle() {
            if (handle == null) {
                throw new ResourceClosedException("cusparseSpMM", "cuSPARSE CSR descriptor");
            }
            return handle;
        }

        @Override
        public void close() {
            if (handle == null) {
                return;
            }
            cusparseSpMatDescr descriptor = handle;
            handle = null;
            CusparseStatus.check("cusparseDestroySpMat", JCusparse.cusparseDestroySpMat(descriptor.asConst()));
        }
    }

    /** A dense descriptor with a packed leading dimension, destroyed exactly once. */
    private static final class DenseDescriptor implements AutoCloseable {
        private cusparseDnMatDescr handle;

        private DenseDescriptor(cusparseDnMatDescr handle) {
            this.handle = handle;
        }

        static DenseDescriptor create(int rows, int cols, long values, int valueType, DenseOrder order) {
            cusparseDnMatDescr descriptor = new cusparseDnMatDescr();
            CusparseStatus.check("cusparseCreateDnMat", JCusparse.cusparseCreateDnMat(descriptor, rows, cols,
                    order.leadingDimension(rows, cols), JcudaPointers.device(values), valueType, order.cusparseOrder()));
            return new DenseDescriptor(descriptor);
        }

        cusparseDnMatDescr handle() {
            if (handle == null) {
                throw new ResourceClosedException("cusparseSpMM", "cuSPARSE dense descriptor");
            }
            return handle;
        }

        @Override
        public void close() {
            if (handle == null) {
                return;
            }
            cusparseDnMatDescr descriptor = handle;
            handle = null;
            CusparseStatus.check("cusparseDestroyDnMat", JCusparse.cusparseDestroyDnMat(descriptor.asConst()));
        }
    }
}

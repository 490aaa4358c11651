package org.lacuna.runtime.internal.sparse;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.internal.nativelib.FfmLibrary;
import org.lacuna.runtime.internal.nativelib.LoadedLibrary;
import org.lacuna.runtime.internal.nativelib.NativeCalls;

/**
 * cuSPARSE's generic SpMM on CSR through java.lang.foreign: binds {@code libcusparse.so.13} (which JCuda's JNI library
 * cannot link against) or any other soname. One instance owns one handle; calls on it are serialised because a
 * handle's stream is part of its state. Matrix descriptors live only for one call and are destroyed on every path.
 */
public final class FfmSparse extends SparseHandle {
    private final FfmLibrary.Handle<Functions> handle;

    private FfmSparse(FfmLibrary.Handle<Functions> handle, int version) {
        super(handle.library().description(), version);
        this.handle = handle;
    }

    /**
     * Loads {@code libcusparse} (its {@code libnvJitLink} of the same major version first, when found beside it or in
     * a sibling pip wheel) and binds the functions Lacuna calls. Needs no GPU.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException with the loader's message, or naming a missing symbol
     */
    public static SparseLibrary bind(Path libcusparse) {
        return new Library(libcusparse);
    }

    @Override
    protected void runSpmmCsr(long stream, int m, int n, int k, long nnz, long rowOffsets, long columnIndices,
                              long values, long b, long c, DenseOrder order, float alpha, float beta,
                              DeviceScratch scratch, SpmmArguments types) {
        Functions functions = handle.functions();
        try (Arena arena = Arena.ofConfined();
             Descriptor matA = functions.createCsr(arena, m, k, nnz, rowOffsets, columnIndices, values, types.valueType());
             Descriptor matB = functions.createDense(arena, k, n, b, types.bType(), order);
             Descriptor matC = functions.createDense(arena, m, n, c, types.cType(), order)) {
            handle.setStream(stream);
            // Host pointer mode (cuSPARSE's default, never changed here): alpha and beta are host floats.
            MemorySegment alphaHost = arena.allocateFrom(JAVA_FLOAT, alpha);
            MemorySegment betaHost = arena.allocateFrom(JAVA_FLOAT, beta);
            MemorySegment bufferSize = arena.allocate(JAVA_LONG);
            CusparseStatus.check("cusparseSpMM_bufferSize", (int) functions.spmmBufferSize.invokeExact(handle.segment(),
                    CusparseConstants.CUSPARSE_OPERATION_NON_TRANSPOSE, CusparseConstants.CUSPARSE_OPERATION_NON_TRANSPOSE,
                    alphaHost, matA.handle(), matB.handle(), betaHost, matC.handle(),
                    CusparseConstants.COMPUTE_32F, CusparseConstants.CUSPARSE_SPMM_ALG_DEFAULT, bufferSize));
            long bytes = bufferSize.get(JAVA_LONG, 0);
            long workspace = bytes > 0 ? scratch.acquire(bytes) : 0;
            CusparseStatus.check("cusparseSpMM", (int) functions.spmm.invokeExact(handle.segment(),
                    CusparseConstants.CUSPARSE_OPERATION_NON_TRANSPOSE, CusparseConstants.CUSPARSE_OPERATION_NON_TRANSPOSE,
                    alphaHost, matA.handle(), matB.handle(), betaHost, matC.handle(),
                    CusparseConstants.COMPUTE_32F, CusparseConstants.CUSPARSE_SPMM_ALG_DEFAULT,
                    MemorySegment.ofAddress(workspace)));
        } catch (Throwable e) {
            throw NativeCalls.rethrow("cusparseSpMM", e);
        }
    }

    @Override
    protected void destroy() {
        handle.destroy();
    }

    /** The bound library (its handle functions and the SpMM calls): opens handles. */
    static final class Library extends FfmLibrary<Functions> implements SparseLibrary {
        Library(Path libcusparse) {
            super("cuSPARSE", "cusparse", libcusparse, "libnvJitLink", "", new int[] {CusparseConstants.MAJOR_VERSION,
                    CusparseConstants.MINOR_VERSION, CusparseConstants.PATCH_LEVEL}, CusparseStatus::check,
                    Functions::new);
        }

        @Override
        public SparseBinding open() {
            return openHandle(FfmSparse::new);
        }
    }

    /** A cuSPARSE matrix descriptor, destroyed exactly once. */
    private static final class Descriptor implements AutoCloseable {
        private final String destroyCall;
        private final MethodHandle destroy;
        private MemorySegment handle;

        Descriptor(MemorySegment handle, String destroyCall, MethodHandle destroy) {
            this.handle = handle;
            this.destroyCall = destroyCall;
            this.destroy = destroy;
        }

        MemorySegment handle() {
            if (handle == null) {
                throw new ResourceClosedException(destroyCall, "cuSPARSE matrix descriptor");
            }
            return handle;
        }

        @Override
        public void close() {
            if (handle == null) {
                return;
            }
            MemorySegment descriptor = handle;
            handle = null;
            try {
                CusparseStatus.check(destroyCall, (int) destroy.invokeExact(descriptor));
            } catch (Throwable e) {
                throw NativeCalls.rethrow(destroyCall, e);
            }
        }
    }

    /** cuSPARSE's own downcall handles, beside its handle functions. */
    static final class Functions {
        private final MethodHandle createCsr;
        private final MethodHandle createDnMat;
        private final MethodHandle destroySpMat;
        private final MethodHandle destroyDnMat;
        private final MethodHandle spmmBufferSize;
        private final MethodHandle spmm;

        Functions(LoadedLibrary cusparse) {
            // descr*, rows, cols, nnz, rowOffsets, colInd, values, rowOffsetsType, colIndType, idxBase, valueType
            createCsr = cusparse.function("cusparseCreateCsr", FunctionDescriptor.of(JAVA_INT,
                    ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS,
                    JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
            // descr*, rows, cols, ld, values, valueType, order
            createDnMat = cusparse.function("cusparseCreateDnMat", FunctionDescriptor.of(JAVA_INT,
                    ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT));
            destroySpMat = cusparse.function("cusparseDestroySpMat", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            destroyDnMat = cusparse.function("cusparseDestroyDnMat", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            // handle, opA, opB, alpha, matA, matB, beta, matC, computeType, alg, size_t* / void* buffer
            FunctionDescriptor spmmShape = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                    ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS);
            spmmBufferSize = cusparse.function("cusparseSpMM_bufferSize", spmmShape);
            spmm = cusparse.function("cusparseSpMM", spmmShape);
        }

        Descriptor createCsr(Arena arena, int rows, int cols, long nnz, long rowOffsets, long columnIndices,
                             long values, int valueType) {
            try {
                MemorySegment out = arena.allocate(ADDRESS);
                CusparseStatus.check("cusparseCreateCsr", (int) createCsr.invokeExact(out,
                        (long) rows, (long) cols, nnz, MemorySegment.ofAddress(rowOffsets),
                        MemorySegment.ofAddress(columnIndices), MemorySegment.ofAddress(values),
                        CusparseConstants.CUSPARSE_INDEX_32I, CusparseConstants.CUSPARSE_INDEX_32I,
                        CusparseConstants.CUSPARSE_INDEX_BASE_ZERO, valueType));
                return new Descriptor(out.get(ADDRESS, 0), "cusparseDestroySpMat", destroySpMat);
            } catch (Throwable e) {
                throw NativeCalls.rethrow("cusparseCreateCsr", e);
            }
        }

        /** A dense rows×cols matrix in {@code order} with a packed leading dimension. */
        Descriptor createDense(Arena arena, int rows, int cols, long values, int valueType, DenseOrder order) {
            try {
                MemorySegment out = arena.allocate(ADDRESS);
                CusparseStatus.check("cusparseCreateDnMat", (int) createDnMat.invokeExact(out,
                        (long) rows, (long) cols, order.leadingDimension(rows, cols), MemorySegment.ofAddress(values),
                        valueType, order.cusparseOrder()));
                return new Descriptor(out.get(ADDRESS, 0), "cusparseDestroyDnMat", destroyDnMat);
            } catch (Throwable e) {
                throw NativeCalls.rethrow("cusparseCreateDnMat", e);
            }
        }
    }
}

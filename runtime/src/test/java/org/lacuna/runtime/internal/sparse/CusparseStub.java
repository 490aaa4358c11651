package org.lacuna.runtime.internal.sparse;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.lacuna.runtime.internal.nativelib.LoadedLibrary;
import org.lacuna.runtime.internal.nativelib.NativeLoader;
import org.lacuna.runtime.internal.nativelib.StubLibraries;

/** A C stand-in for libcusparse's generic API; records calls and counts live descriptors. */
final class CusparseStub {
    static final String SOURCE = """
            #include <stdint.h>
            #include <stddef.h>
            int64_t stub_csr[10];      /* rows, cols, nnz, rowOffsets, colInd, values, rowType, colType, base, valueType */
            int64_t stub_dense[2][6];  /* per creation (B then C): rows, cols, ld, values, valueType, order */
            int64_t stub_spmm[8];      /* opA, opB, computeType, alg (bufferSize call); opA, opB, computeType, alg (SpMM) */
            int64_t stub_buffer;       /* workspace pointer handed to cusparseSpMM */
            float stub_scalars[2];
            int stub_counts[6];        /* creates, destroys, live descriptors, dense creations, SpMM calls, setStream */
            int64_t stub_stream;
            int64_t stub_buffer_size;
            int stub_fail_dense_creation;   /* 1-based index of the dense creation to fail; 0: none */
            int stub_spmm_status;
            static int handle_storage;
            static int descriptors[8];
            static int next_descriptor;
            static void *descriptor(void) { stub_counts[2]++; return &descriptors[next_descriptor++ % 8]; }
            int cusparseCreate(void **handle) { *handle = &handle_storage; stub_counts[0]++; return 0; }
            int cusparseDestroy(void *handle) { stub_counts[1]++; return handle == &handle_storage ? 0 : 3; }
            int cusparseSetStream(void *handle, void *stream) {
                stub_counts[5]++; stub_stream = (int64_t) (intptr_t) stream; return 0;
            }
            int cusparseGetVersion(void *handle, int *version) { *version = 12510; return 0; }
            int cusparseGetProperty(int type, int *value) { *value = type == 0 ? 13 : type == 1 ? 0 : 2; return 0; }
            int cusparseCreateCsr(void **descr, int64_t rows, int64_t cols, int64_t nnz, void *rowOffsets,
                                  void *colInd, void *values, int rowType, int colType, int base, int valueType) {
                int64_t args[10] = {rows, cols, nnz, (int64_t) (intptr_t) rowOffsets, (int64_t) (intptr_t) colInd,
                        (int64_t) (intptr_t) values, rowType, colType, base, valueType};
                for (int i = 0; i < 10; i++) stub_csr[i] = args[i];
                *descr = descriptor();
                return 0;
            }
            int cusparseCreateDnMat(void **descr, int64_t rows, int64_t cols, int64_t ld, void *values,
                                    int valueType, int order) {
                int which = stub_counts[3]++;
                if (stub_fail_dense_creation == which + 1) return 2;
                int64_t args[6] = {rows, cols, ld, (int64_t) (intptr_t) values, valueType, order};
                for (int i = 0; i < 6; i++) stub_dense[which % 2][i] = args[i];
                *descr = descriptor();
                return 0;
            }
            int cusparseDestroySpMat(void *descr) { stub_counts[2]--; return 0; }
            int cusparseDestroyDnMat(void *descr) { stub_counts[2]--; return 0; }
            int cusparseSpMM_bufferSize(void *handle, int opA, int opB, const void *alpha, void *A, void *B,
                                        const void *beta, void *C, int computeType, int alg, size_t *size) {
                stub_spmm[0] = opA; stub_spmm[1] = opB; stub_spmm[2] = computeType; stub_spmm[3] = alg;
                *size = (size_t) stub_buffer_size;
                return 0;
            }
            int cusparseSpMM(void *handle, int opA, int opB, const void *alpha, void *A, void *B,
                             const void *beta, void *C, int computeType, int alg, void *buffer) {
                stub_spmm[4] = opA; stub_spmm[5] = opB; stub_spmm[6] = computeType; stub_spmm[7] = alg;
                stub_buffer = (int64_t) (intptr_t) buffer;
                stub_scalars[0] = *(const float *) alpha;
                stub_scalars[1] = *(const float *) beta;
                stub_counts[4]++;
                return stub_spmm_status;
            }
            """;

    final Path file;
    private final LoadedLibrary library;

    private CusparseStub(Path file) {
        this.file = file;
        this.library = NativeLoader.load("cusparse-stub", file);
    }

    static CusparseStub build(Path folder, String fileName) {
        return new CusparseStub(StubLibraries.compile(folder, fileName, SOURCE));
    }

    long csrArgument(int index) {
        return StubLibraries.longs(library, "stub_csr", 10).getAtIndex(ValueLayout.JAVA_LONG, index);
    }

    /** Argument {@code index} of dense creation {@code which} (0: B, 1: C). */
    long denseArgument(int which, int index) {
        return StubLibraries.longs(library, "stub_dense", 12).getAtIndex(ValueLayout.JAVA_LONG, which * 6L + index);
    }

    long spmmArgument(int index) {
        return StubLibraries.longs(library, "stub_spmm", 8).getAtIndex(ValueLayout.JAVA_LONG, index);
    }

    long bufferPassed() {
        return StubLibraries.longs(library, "stub_buffer", 1).get(ValueLayout.JAVA_LONG, 0);
    }

    long lastStream() {
        return StubLibraries.longs(library, "stub_stream", 1).get(ValueLayout.JAVA_LONG, 0);
    }

    float alpha() {
        return StubLibraries.floats(library, "stub_scalars", 2).getAtIndex(ValueLayout.JAVA_FLOAT, 0);
    }

    float beta() {
        return StubLibraries.floats(library, "stub_scalars", 2).getAtIndex(ValueLayout.JAVA_FLOAT, 1);
    }

    int creates() {
        return count(0);
    }

    int destroys() {
        return count(1);
    }

    int liveDescriptors() {
        return count(2);
    }

    int spmmCalls() {
        return count(4);
    }

    void reportBufferSize(long bytes) {
        StubLibraries.longs(library, "stub_buffer_size", 1).set(ValueLayout.JAVA_LONG, 0, bytes);
    }

    void failDenseCreation(int oneBasedIndex) {
        StubLibraries.ints(library, "stub_fail_dense_creation", 1).set(ValueLayout.JAVA_INT, 0, oneBasedIndex);
    }

    void failSpmmWith(int status) {
        StubLibraries.ints(library, "stub_spmm_status", 1).set(ValueLayout.JAVA_INT, 0, status);
    }

    private int count(int index) {
        return StubLibraries.ints(library, "stub_counts", 6).getAtIndex(ValueLayout.JAVA_INT, index);
    }
}

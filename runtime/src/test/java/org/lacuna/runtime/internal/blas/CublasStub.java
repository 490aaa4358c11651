package org.lacuna.runtime.internal.blas;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.lacuna.runtime.internal.nativelib.LoadedLibrary;
import org.lacuna.runtime.internal.nativelib.NativeLoader;
import org.lacuna.runtime.internal.nativelib.StubLibraries;

/** A C stand-in for libcublas with the v2 API's exported names; records what it was called with. */
final class CublasStub {
    static final String SOURCE = """
            #include <stdint.h>
            int64_t stub_gemm_args[19];
            float stub_gemm_scalars[2];
            int stub_counts[4]; /* creates, destroys, setStream calls, gemm calls */
            int64_t stub_stream;
            int stub_gemm_status;
            static int handle_storage;
            int cublasCreate_v2(void **handle) { *handle = &handle_storage; stub_counts[0]++; return 0; }
            int cublasDestroy_v2(void *handle) { stub_counts[1]++; return handle == &handle_storage ? 0 : 7; }
            int cublasSetStream_v2(void *handle, void *stream) {
                stub_counts[2]++; stub_stream = (int64_t) (intptr_t) stream; return handle == &handle_storage ? 0 : 7;
            }
            int cublasGetVersion_v2(void *handle, int *version) { *version = 130107; return 0; }
            int cublasGetProperty(int type, int *value) { *value = type == 0 ? 13 : type == 1 ? 1 : 7; return 0; }
            int cublasGemmEx(void *handle, int transa, int transb, int m, int n, int k, const void *alpha,
                             const void *A, int Atype, int lda, const void *B, int Btype, int ldb, const void *beta,
                             void *C, int Ctype, int ldc, int computeType, int algo) {
                int64_t args[19] = {(int64_t) (intptr_t) handle, transa, transb, m, n, k, 0,
                        (int64_t) (intptr_t) A, Atype, lda, (int64_t) (intptr_t) B, Btype, ldb, 0,
                        (int64_t) (intptr_t) C, Ctype, ldc, computeType, algo};
                for (int i = 0; i < 19; i++) stub_gemm_args[i] = args[i];
                stub_gemm_scalars[0] = *(const float *) alpha;
                stub_gemm_scalars[1] = *(const float *) beta;
                stub_counts[3]++;
                return stub_gemm_status;
            }
            """;

    final Path file;
    private final LoadedLibrary library;

    private CublasStub(Path file) {
        this.file = file;
        this.library = NativeLoader.load("cublas-stub", file);
    }

    static CublasStub build(Path folder, String fileName) {
        return new CublasStub(StubLibraries.compile(folder, fileName, SOURCE));
    }

    /** Argument {@code index} of the last cublasGemmEx call, in the C parameter order (alpha, beta read as 0). */
    long gemmArgument(int index) {
        return StubLibraries.longs(library, "stub_gemm_args", 19).getAtIndex(ValueLayout.JAVA_LONG, index);
    }

    float alpha() {
        return StubLibraries.floats(library, "stub_gemm_scalars", 2).getAtIndex(ValueLayout.JAVA_FLOAT, 0);
    }

    float beta() {
        return StubLibraries.floats(library, "stub_gemm_scalars", 2).getAtIndex(ValueLayout.JAVA_FLOAT, 1);
    }

    int creates() {
        return count(0);
    }

    int destroys() {
        return count(1);
    }

    int gemmCalls() {
        return count(3);
    }

    long lastStream() {
        return StubLibraries.longs(library, "stub_stream", 1).get(ValueLayout.JAVA_LONG, 0);
    }

    void failGemmWith(int status) {
        MemorySegment cell = StubLibraries.ints(library, "stub_gemm_status", 1);
        cell.set(ValueLayout.JAVA_INT, 0, status);
    }

    private int count(int index) {
        return StubLibraries.ints(library, "stub_counts", 4).getAtIndex(ValueLayout.JAVA_INT, index);
    }
}

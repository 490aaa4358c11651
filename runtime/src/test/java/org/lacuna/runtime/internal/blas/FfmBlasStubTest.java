package org.lacuna.runtime.internal.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.CudaException;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.internal.nativelib.CudaDataType;
import org.lacuna.runtime.internal.nativelib.SearchAttempt;
import org.lacuna.runtime.internal.nativelib.SearchFixture;
import org.lacuna.runtime.internal.nativelib.SearchResult;
import org.lacuna.runtime.internal.nativelib.SearchStep;

/** FfmBlas end to end against a C stand-in for libcublas.so.13: names, argument order and types, statuses. */
class FfmBlasStubTest {
    @TempDir
    Path temp;

    @Test
    void passesEveryGemmArgumentInCublasOrder() {
        CublasStub stub = CublasStub.build(temp.resolve("lib64"), "libcublas.so.13");
        BlasLibrary library = FfmBlas.bind(stub.file);

        assertEquals("java.lang.foreign on " + stub.file + " (cuBLAS 13.1.7)", library.description());
        try (BlasBinding blas = library.open()) {
            assertEquals(130107, blas.version());
            assertEquals(1, stub.creates());
            blas.gemmEx(0x1234_5678L, true, false, 37, 53, 71, 1.5f,
                    0xA000L, DType.F16, 71, 0xB000L, DType.BF16, 72, 0.25f, 0xC000L, DType.F32, 40);

            assertEquals(0x1234_5678L, stub.lastStream());
            assertEquals(1, stub.gemmCalls());
            long[] expected = {stub.gemmArgument(0), CublasConstants.CUBLAS_OP_T, CublasConstants.CUBLAS_OP_N,
                    37, 53, 71, 0, 0xA000L, CudaDataType.CUDA_R_16F, 71, 0xB000L, CudaDataType.CUDA_R_16BF, 72,
                    0, 0xC000L, CudaDataType.CUDA_R_32F, 40, CublasConstants.CUBLAS_COMPUTE_32F, -1};
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], stub.gemmArgument(i), "argument " + i);
            }
            assertTrue(stub.gemmArgument(0) != 0, "handle");
            assertEquals(1.5f, stub.alpha());
            assertEquals(0.25f, stub.beta());
        }
        assertEquals(1, stub.destroys());
    }

    @Test
    void aFailedCallNamesTheCallAndTheCublasStatus() {
        CublasStub stub = CublasStub.build(temp, "libcublas.so.13");
        stub.failGemmWith(15);

        try (BlasBinding blas = FfmBlas.bind(stub.file).open()) {
            CudaException failure = assertThrows(CudaException.class, () -> blas.gemmEx(0, false, false, 4, 4, 4, 1f,
                    0xA0L, DType.F32, 4, 0xB0L, DType.F32, 4, 0f, 0xC0L, DType.F32, 4));

            assertEquals("cublasGemmEx", failure.call());
            assertEquals(15, failure.status());
            assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", failure.statusName());
            assertTrue(failure.getMessage().contains("cublasGemmEx: CUBLAS_STATUS_NOT_SUPPORTED (15)"),
                    failure.getMessage());
        }
    }

    @Test
    void closeIsIdempotentAndAClosedHandleIsRefused() {
        CublasStub stub = CublasStub.build(temp, "libcublas.so.13");
        BlasBinding blas = FfmBlas.bind(stub.file).open();

        blas.close();
        blas.close();

        assertEquals(1, stub.destroys());
        ResourceClosedException closed = assertThrows(ResourceClosedException.class, () -> blas.gemmEx(0, false,
                false, 1, 1, 1, 1f, 0xA0L, DType.F32, 1, 0xB0L, DType.F32, 1, 0f, 0xC0L, DType.F32, 1));
        assertEquals(ErrorCode.CLOSED, closed.code());
        assertEquals(0, stub.gemmCalls());
    }

    @Test
    void badArgumentsNeverReachCublas() {
        CublasStub stub = CublasStub.build(temp, "libcublas.so.13");
        try (BlasBinding blas = FfmBlas.bind(stub.file).open()) {
            InvalidInputException dtype = assertThrows(InvalidInputException.class, () -> blas.gemmEx(0, false, false,
                    2, 2, 2, 1f, 0xA0L, DType.I32, 2, 0xB0L, DType.F32, 2, 0f, 0xC0L, DType.F32, 2));
            InvalidInputException lda = assertThrows(InvalidInputException.class, () -> blas.gemmEx(0, true, false,
                    2, 2, 5, 1f, 0xA0L, DType.F32, 2, 0xB0L, DType.F32, 5, 0f, 0xC0L, DType.F32, 2));
            InvalidInputException nullB = assertThrows(InvalidInputException.class, () -> blas.gemmEx(0, false, false,
                    2, 2, 2, 1f, 0xA0L, DType.F32, 2, 0L, DType.F32, 2, 0f, 0xC0L, DType.F32, 2));

            assertEquals(ErrorCode.DTYPE_MISMATCH, dtype.code());
            assertTrue(dtype.getMessage().contains("A must be F16, BF16 or F32, not I32"), dtype.getMessage());
            assertEquals(ErrorCode.SHAPE_MISMATCH, lda.code());
            assertTrue(lda.getMessage().contains("lda must be >= max(1, 5), got 2"), lda.getMessage());
            assertEquals(ErrorCode.INVALID_ARGUMENT, nullB.code());
            assertEquals(0, stub.gemmCalls());
        }
    }

    @Test
    void theSelectionBindsASo13ThroughFfm() {
        SearchFixture fixture = new SearchFixture(temp);
        Path cudaHome = fixture.root().resolve("cuda-13");
        CublasStub stub = CublasStub.build(cudaHome.resolve("lib64"), "libcublas.so.13");
        fixture.env("CUDA_HOME", cudaHome);

        SearchResult<BlasLibrary> result = BlasBindings.select(fixture.environment());

        BlasLibrary library = result.orElseThrow();
        assertInstanceOf(FfmBlas.Library.class, library);
        assertEquals(SearchStep.CUDA_HOME, result.selected().orElseThrow().step());
        assertEquals(stub.file, result.selected().orElseThrow().file());
        assertEquals(SearchAttempt.Outcome.SELECTED, result.attempts().getLast().outcome());
    }

    @Test
    void aSo12CanBeForcedOntoFfm() {
        SearchFixture fixture = new SearchFixture(temp);
        CublasStub stub = CublasStub.build(fixture.defaultCuda().resolve("lib64"), "libcublas.so.12");
        fixture.property("lacuna.cublas.binding", "ffm");

        BlasLibrary library = BlasBindings.select(fixture.environment()).orElseThrow();

        assertEquals("java.lang.foreign on " + stub.file + " (cuBLAS 13.1.7)", library.description());
    }
}

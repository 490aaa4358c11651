package org.lacuna.runtime.internal.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.CudaException;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.internal.nativelib.CudaDataType;
import org.lacuna.runtime.internal.nativelib.SearchFixture;
import org.lacuna.runtime.internal.nativelib.SearchResult;
import org.lacuna.runtime.internal.nativelib.SearchStep;

/** FfmSparse end to end against a C stand-in for libcusparse.so.13: arguments, workspace, descriptor lifetimes. */
class FfmSparseStubTest {
    @TempDir
    Path temp;

    @Test
    void passesCsrAndRowMajorDescriptorsAndTheWorkspace() {
        CusparseStub stub = CusparseStub.build(temp, "libcusparse.so.13");
        stub.reportBufferSize(4096);
        List<Long> requested = new ArrayList<>();
        SparseLibrary library = FfmSparse.bind(stub.file);

        assertEquals("java.lang.foreign on " + stub.file + " (cuSPARSE 13.0.2)", library.description());
        try (SparseBinding sparse = library.open()) {
            assertEquals(12510, sparse.version());
            sparse.spmmCsr(0x77L, 37, 53, 71, 400, 0x1000L, 0x2000L, 0x3000L, DType.BF16,
                    0x4000L, DType.BF16, 0x5000L, DType.F32, 1.5f, 0.5f, bytes -> {
                        requested.add(bytes);
                        return 0xABC000L;
                    });

            assertEquals(List.of(37L, 71L, 400L, 0x1000L, 0x2000L, 0x3000L, 2L, 2L, 0L, (long) CudaDataType.CUDA_R_16BF),
                    range(stub::csrArgument, 10));
            assertEquals(List.of(71L, 53L, 53L, 0x4000L, (long) CudaDataType.CUDA_R_16BF, 2L),
                    range(i -> stub.denseArgument(0, i), 6), "B: k x n, row-major, ld = n");
            assertEquals(List.of(37L, 53L, 53L, 0x5000L, (long) CudaDataType.CUDA_R_32F, 2L),
                    range(i -> stub.denseArgument(1, i), 6), "C: m x n, row-major, ld = n");
            assertEquals(List.of(0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L), range(stub::spmmArgument, 8),
                    "non-transposed, CUDA_R_32F compute, CUSPARSE_SPMM_ALG_DEFAULT");
            assertEquals(List.of(4096L), requested);
            assertEquals(0xABC000L, stub.bufferPassed());
            assertEquals(0x77L, stub.lastStream());
            assertEquals(1.5f, stub.alpha());
            assertEquals(0.5f, stub.beta());
            assertEquals(0, stub.liveDescriptors(), "descriptors left after the call");
        }
        assertEquals(1, stub.destroys());
    }

    @Test
    void noWorkspaceIsRequestedWhenCusparseNeedsNone() {
        CusparseStub stub = CusparseStub.build(temp, "libcusparse.so.13");
        try (SparseBinding sparse = FfmSparse.bind(stub.file).open()) {
            sparse.spmmCsr(0, 2, 2, 2, 1, 0x10L, 0x20L, 0x30L, DType.F32, 0x40L, DType.F32, 0x50L, DType.F32,
                    1f, 0f, bytes -> {
                        throw new AssertionError("asked for " + bytes + " bytes");
                    });

            assertEquals(0L, stub.bufferPassed());
            assertEquals(1, stub.spmmCalls());
        }
    }

    @Test
    void descriptorsAreDestroyedWhenSpmmFails() {
        CusparseStub stub = CusparseStub.build(temp, "libcusparse.so.13");
        stub.failSpmmWith(10);
        try (SparseBinding sparse = FfmSparse.bind(stub.file).open()) {
            CudaException failure = assertThrows(CudaException.class, () -> sparse.spmmCsr(0, 2, 2, 2, 1,
                    0x10L, 0x20L, 0x30L, DType.F16, 0x40L, DType.F16, 0x50L, DType.F16, 1f, 0f, bytes -> 0x60L));

            assertEquals("cusparseSpMM", failure.call());
            assertEquals("CUSPARSE_STATUS_NOT_SUPPORTED", failure.statusName());
            assertEquals(0, stub.liveDescriptors());
        }
    }

    @Test
    void descriptorsMadeBeforeAFailedCreationAreDestroyed() {
        CusparseStub stub = CusparseStub.build(temp, "libcusparse.so.13");
        stub.failDenseCreation(2);
        try (SparseBinding sparse = FfmSparse.bind(stub.file).open()) {
            CudaException failure = assertThrows(CudaException.class, () -> sparse.spmmCsr(0, 2, 2, 2, 1,
                    0x10L, 0x20L, 0x30L, DType.F32, 0x40L, DType.F32, 0x50L, DType.F32, 1f, 0f, bytes -> 0x60L));

            assertEquals("cusparseCreateDnMat", failure.call());
            assertEquals("CUSPARSE_STATUS_ALLOC_FAILED", failure.statusName());
            assertEquals(0, stub.liveDescriptors(), "the CSR and B descriptors must be destroyed");
            assertEquals(0, stub.spmmCalls());
        }
    }

    @Test
    void closeIsIdempotentAndBadArgumentsNeverReachCusparse() {
        CusparseStub stub = CusparseStub.build(temp, "libcusparse.so.13");
        SparseBinding sparse = FfmSparse.bind(stub.file).open();

        InvalidInputException dtype = assertThrows(InvalidInputException.class, () -> sparse.spmmCsr(0, 2, 2, 2, 1,
                0x10L, 0x20L, 0x30L, DType.I64, 0x40L, DType.F32, 0x50L, DType.F32, 1f, 0f, bytes -> 0));
        InvalidInputException tooMany = assertThrows(InvalidInputException.class, () -> sparse.spmmCsr(0, 2, 2, 2, 5,
                0x10L, 0x20L, 0x30L, DType.F32, 0x40L, DType.F32, 0x50L, DType.F32, 1f, 0f, bytes -> 0));
        InvalidInputException noScratch = assertThrows(InvalidInputException.class, () -> sparse.spmmCsr(0, 2, 2, 2,
                1, 0x10L, 0x20L, 0x30L, DType.F32, 0x40L, DType.F32, 0x50L, DType.F32, 1f, 0f, null));
        assertEquals(ErrorCode.DTYPE_MISMATCH, dtype.code());
        assertEquals(ErrorCode.SHAPE_MISMATCH, tooMany.code());
        assertEquals(ErrorCode.INVALID_ARGUMENT, noScratch.code());
        assertEquals(0, stub.spmmCalls());

        sparse.close();
        sparse.close();

        assertEquals(1, stub.destroys());
        assertThrows(ResourceClosedException.class, () -> sparse.spmmCsr(0, 2, 2, 2, 1, 0x10L, 0x20L, 0x30L,
                DType.F32, 0x40L, DType.F32, 0x50L, DType.F32, 1f, 0f, bytes -> 0));
    }

    @Test
    void theSelectionBindsASo13ThroughFfm() {
        SearchFixture fixture = new SearchFixture(temp);
        Path wheel = fixture.root().resolve("venv/lib/python3.12/site-packages/nvidia/cu13/lib");
        CusparseStub stub = CusparseStub.build(wheel, "libcusparse.so.13");
        fixture.env("VIRTUAL_ENV", fixture.root().resolve("venv"));

        SearchResult<SparseLibrary> result = SparseBindings.select(fixture.environment());

        assertInstanceOf(FfmSparse.Library.class, result.orElseThrow());
        assertEquals(SearchStep.PYTHON_SITE_PACKAGES, result.selected().orElseThrow().step());
        assertEquals(stub.file, result.selected().orElseThrow().file());
        assertTrue(result.report(SparseLibrary::description).render().startsWith("cusparse: java.lang.foreign on "));
    }

    private static List<Long> range(java.util.function.IntToLongFunction argument, int count) {
        List<Long> values = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            values.add(argument.applyAsLong(i));
        }
        return values;
    }
}

package org.lacuna.runtime.internal.blas;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.internal.nativelib.CudaDataType;

/**
 * Checks a gemm call before it reaches cuBLAS. cuBLAS would answer most of these with a bare INVALID_VALUE, and a null
 * device pointer would fault the whole CUDA context asynchronously, so they are caught here with a clear message.
 *
 * @param aType cudaDataType of A, likewise for B and C
 */
record GemmArguments(int aType, int bType, int cType) {
    private static final String CALL = "cublasGemmEx";

    /** Validates shapes, leading dimensions (column-major), pointers and dtypes; returns the CUDA data types. */
    static GemmArguments check(boolean transA, boolean transB, int m, int n, int k,
                               long a, DType aType, int lda, long b, DType bType, int ldb,
                               long c, DType cType, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw InvalidInputException.shape(CALL, "m, n, k must be >= 0, got " + m + ", " + n + ", " + k);
        }
        int aRows = transA ? k : m;
        int bRows = transB ? n : k;
        requireLeadingDimension("lda", lda, aRows);
        requireLeadingDimension("ldb", ldb, bRows);
        requireLeadingDimension("ldc", ldc, m);
        boolean productHasTerms = m > 0 && n > 0 && k > 0;
        requireAddress("A", a, productHasTerms);
        requireAddress("B", b, productHasTerms);
        requireAddress("C", c, m > 0 && n > 0);
        return new GemmArguments(CudaDataType.of(aType, CALL, "A"), CudaDataType.of(bType, CALL, "B"),
                CudaDataType.of(cType, CALL, "C"));
    }

    private static void requireLeadingDimension(String name, int value, int rows) {
        if (value < Math.max(1, rows)) {
            throw InvalidInputException.shape(CALL, name + " must be >= max(1, " + rows + "), got " + value);
        }
    }

    private static void requireAddress(String operand, long address, boolean needed) {
        if (needed && address == 0) {
            throw InvalidInputException.argument(CALL, operand + " is a null device pointer");
        }
    }
}

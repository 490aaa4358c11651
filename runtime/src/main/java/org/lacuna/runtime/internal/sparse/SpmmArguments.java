package org.lacuna.runtime.internal.sparse;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.internal.nativelib.CudaDataType;

/**
 * Checks a CSR SpMM call before it reaches cuSPARSE (which would answer most of these with a bare INVALID_VALUE, and
 * fault the CUDA context on a null device pointer).
 *
 * @param valueType cudaDataType of A's values, likewise for B and C
 */
record SpmmArguments(int valueType, int bType, int cType) {
    private static final String CALL = "cusparseSpMM";

    static SpmmArguments check(int m, int n, int k, long nnz, long rowOffsets, long columnIndices, long values,
                               DType valueType, long b, DType bType, long c, DType cType,
                               SparseBinding.DeviceScratch scratch) {
        if (m < 0 || n < 0 || k < 0) {
            throw InvalidInputException.shape(CALL, "m, n, k must be >= 0, got " + m + ", " + n + ", " + k);
        }
        if (nnz < 0 || nnz > Integer.MAX_VALUE) {
            throw InvalidInputException.argument(CALL, "nnz must be in [0, 2^31) for int32 CSR indices, got " + nnz);
        }
        if ((long) m * k < nnz) {
            throw InvalidInputException.shape(CALL, "nnz " + nnz + " exceeds m*k = " + (long) m * k);
        }
        if (scratch == null) {
            throw InvalidInputException.argument(CALL, "no DeviceScratch given for cuSPARSE's workspace");
        }
        boolean outputExists = m > 0 && n > 0;
        requireAddress("row offsets", rowOffsets, outputExists);
        requireAddress("column indices", columnIndices, outputExists && nnz > 0);
        requireAddress("values", values, outputExists && nnz > 0);
        requireAddress("B", b, outputExists && k > 0);
        requireAddress("C", c, outputExists);
        return new SpmmArguments(CudaDataType.of(valueType, CALL, "A"), CudaDataType.of(bType, CALL, "B"),
                CudaDataType.of(cType, CALL, "C"));
    }

    private static void requireAddress(String operand, long address, boolean needed) {
        if (needed && address == 0) {
            throw InvalidInputException.argument(CALL, operand + " is a null device pointer");
        }
    }
}

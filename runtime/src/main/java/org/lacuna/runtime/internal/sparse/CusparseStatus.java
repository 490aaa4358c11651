package org.lacuna.runtime.internal.sparse;

import org.lacuna.runtime.error.CudaException;

/** {@code cusparseStatus_t} names (cusparse.h), kept here so errors read the same through either binding. */
final class CusparseStatus {
    static final int SUCCESS = 0;

    private CusparseStatus() {
    }

    static String name(int status) {
        return switch (status) {
            case 0 -> "CUSPARSE_STATUS_SUCCESS";
            case 1 -> "CUSPARSE_STATUS_NOT_INITIALIZED";
            case 2 -> "CUSPARSE_STATUS_ALLOC_FAILED";
            case 3 -> "CUSPARSE_STATUS_INVALID_VALUE";
            case 4 -> "CUSPARSE_STATUS_ARCH_MISMATCH";
            case 5 -> "CUSPARSE_STATUS_MAPPING_ERROR";
            case 6 -> "CUSPARSE_STATUS_EXECUTION_FAILED";
            case 7 -> "CUSPARSE_STATUS_INTERNAL_ERROR";
            case 8 -> "CUSPARSE_STATUS_MATRIX_TYPE_NOT_SUPPORTED";
            case 9 -> "CUSPARSE_STATUS_ZERO_PIVOT";
            case 10 -> "CUSPARSE_STATUS_NOT_SUPPORTED";
            case 11 -> "CUSPARSE_STATUS_INSUFFICIENT_RESOURCES";
            default -> "CUSPARSE_STATUS_UNKNOWN";
        };
    }

    /** @throws CudaException naming {@code call} and the status when it is not success */
    static void check(String call, int status) {
        if (status != SUCCESS) {
            throw new CudaException(call, status, name(status), null);
        }
    }
}

package org.lacuna.runtime.internal.blas;

import org.lacuna.runtime.error.CudaException;

/** {@code cublasStatus_t} names (cublas_api.h), kept here so errors read the same through either binding. */
final class CublasStatus {
    static final int SUCCESS = 0;

    private CublasStatus() {
    }

    static String name(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "CUBLAS_STATUS_UNKNOWN";
        };
    }

    /** @throws CudaException naming {@code call} and the status when it is not success */
    static void check(String call, int status) {
        if (status != SUCCESS) {
            throw new CudaException(call, status, name(status), null);
        }
    }
}

package org.lacuna.runtime.error;

/** A CUDA driver or library call failed. Names the call, the status code and, for launches, the kernel. */
public class CudaException extends LacunaException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String statusName;
    private final String kernel;

    public CudaException(String call, int status, String statusName, String kernel) {
        super(ErrorCode.CUDA_ERROR, call, statusName + " (" + status + ")" + (kernel == null ? "" : " in kernel " + kernel));
        this.status = status;
        this.statusName = statusName;
        this.kernel = kernel;
    }

    /** The raw status, e.g. a {@code CUresult} or {@code cublasStatus_t} value. */
    public int status() {
        return status;
    }

    public String statusName() {
        return statusName;
    }

    /** The kernel being launched, or null when the failing call was no launch. */
    public String kernel() {
        return kernel;
    }
}

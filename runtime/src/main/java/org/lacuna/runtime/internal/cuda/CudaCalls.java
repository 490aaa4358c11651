package org.lacuna.runtime.internal.cuda;

import jcuda.driver.CUresult;
import org.lacuna.runtime.error.CudaException;
import org.lacuna.runtime.error.DeviceOutOfMemoryException;

/** Turns CUresult codes into Lacuna exceptions that name the call, the code and (for launches) the kernel. */
final class CudaCalls {
    private CudaCalls() {
    }

    static void check(String call, int result) {
        check(call, result, null);
    }

    static void check(String call, int result, String kernel) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call, result, CUresult.stringFor(result), kernel);
        }
    }

    /** Like {@link #check} but reports CUDA_ERROR_OUT_OF_MEMORY as the typed out-of-memory exception. */
    static void checkAllocation(String call, int result, long bytes) {
        if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            throw new DeviceOutOfMemoryException(call, bytes, "");
        }
        check(call, result);
    }
}

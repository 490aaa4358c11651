package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import jcuda.driver.CUresult;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.BackendAvailability;
import org.lacuna.runtime.backend.BackendProvider;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.compile.KernelCompilers;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;

/**
 * The GPU backend on JCuda's driver API. The probe loads libcuda and counts devices; on a machine without a driver
 * or GPU it reports why and never throws, so the CPU backend can serve.
 */
public final class CudaBackendProvider implements BackendProvider {
    public static final String NAME = "cuda";

    private static volatile BackendAvailability probed;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int rank() {
        return 100;
    }

    @Override
    public BackendAvailability probe() {
        BackendAvailability result = probed;
        if (result == null) {
            synchronized (CudaBackendProvider.class) {
                if (probed == null) {
                    probed = probeOnce();
                }
                result = probed;
            }
        }
        return result;
    }

    private static BackendAvailability probeOnce() {
        try {
            int status = cuInit(0);
            if (status != CUresult.CUDA_SUCCESS) {
                return BackendAvailability.no("cuInit failed with " + CUresult.stringFor(status)
                        + (status == CUresult.CUDA_ERROR_NO_DEVICE ? " (no CUDA-capable GPU is visible)" : ""));
            }
            int[] count = {0};
            status = cuDeviceGetCount(count);
            if (status != CUresult.CUDA_SUCCESS) {
                return BackendAvailability.no("cuDeviceGetCount failed with " + CUresult.stringFor(status));
            }
            if (count[0] == 0) {
                return BackendAvailability.no("the CUDA driver sees no GPU");
            }
            int[] driver = {0};
            cuDriverGetVersion(driver);
            return BackendAvailability.yes(count[0] + " GPU(s), driver CUDA " + DeviceInfo.versionString(driver[0]));
        } catch (LinkageError e) {
            // JCuda's JNI library needs libcuda.so.1, which only a machine with the NVIDIA driver has.
            return BackendAvailability.no("the CUDA driver (libcuda.so.1) cannot be loaded: " + rootMessage(e));
        }
    }

    /**
     * The loader's own words, without JCuda's nested stack traces: its message embeds them, and the line that
     * matters is the last UnsatisfiedLinkError (e.g. "libcuda.so.1: cannot open shared object file").
     */
    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? t.toString() : t.getMessage();
        String marker = "UnsatisfiedLinkError: ";
        String last = null;
        for (String line : message.lines().toList()) {
            int at = line.indexOf(marker);
            if (at >= 0) {
                last = line.substring(at + marker.length()).strip();
            }
        }
        return last != null ? last : message.lines().findFirst().orElse(message);
    }

    @Override
    public Backend open(int deviceOrdinal) {
        BackendAvailability availability = probe();
        if (!availability.available()) {
            throw new LacunaException(ErrorCode.BACKEND_UNAVAILABLE, "CudaBackendProvider.open", availability.reason());
        }
        int[] count = {0};
        CudaCalls.check("cuDeviceGetCount", cuDeviceGetCount(count));
        if (deviceOrdinal < 0 || deviceOrdinal >= count[0]) {
            throw InvalidInputException.argument("CudaBackendProvider.open", "device " + deviceOrdinal
                    + " does not exist; " + count[0] + " GPU(s) visible");
        }
        return new CudaBackend(deviceOrdinal, KernelCompilers.shared());
    }
}

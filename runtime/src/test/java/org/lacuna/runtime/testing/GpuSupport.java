package org.lacuna.runtime.testing;

import org.junit.jupiter.api.Assumptions;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.BackendAvailability;
import org.lacuna.runtime.internal.cuda.CudaBackendProvider;

/** For tests tagged {@code gpu}: opens the CUDA backend, or skips the test (with the reason) where there is none. */
public final class GpuSupport {
    public static final String TAG = "gpu";

    private GpuSupport() {
    }

    public static Backend openCudaOrSkip() {
        CudaBackendProvider provider = new CudaBackendProvider();
        BackendAvailability availability = provider.probe();
        Assumptions.assumeTrue(availability.available(), () -> "no GPU: " + availability.reason());
        return provider.open(0);
    }
}

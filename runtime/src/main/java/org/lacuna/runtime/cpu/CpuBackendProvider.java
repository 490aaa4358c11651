package org.lacuna.runtime.cpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.BackendAvailability;
import org.lacuna.runtime.backend.BackendProvider;
import org.lacuna.runtime.error.InvalidInputException;

/** The serving JVM backend: fp32 kernels, always available, below every GPU backend. */
public final class CpuBackendProvider implements BackendProvider {
    public static final String NAME = "cpu";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public BackendAvailability probe() {
        return BackendAvailability.yes(CpuCapabilities.summary(CpuOptions.fromConfig()));
    }

    @Override
    public Backend open(int deviceOrdinal) {
        return open(deviceOrdinal, CpuOptions.fromConfig());
    }

    /** Opens the serving backend with explicit options (thread count, fast paths). */
    public Backend open(int deviceOrdinal, CpuOptions options) {
        if (deviceOrdinal != 0) {
            throw InvalidInputException.argument("CpuBackendProvider.open", "the CPU backend has one device, 0; asked for " + deviceOrdinal);
        }
        return CpuBackend.serving(options);
    }
}

package org.lacuna.runtime.cpu;

import org.lacuna.runtime.Backend;
import org.lacuna.runtime.BackendAvailability;
import org.lacuna.runtime.BackendProvider;
import org.lacuna.runtime.InvalidInputException;

/** The JVM backend: always available, lowest rank, the reference for every GPU test. */
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
        return BackendAvailability.yes(Runtime.getRuntime().availableProcessors() + " JVM threads");
    }

    @Override
    public Backend open(int deviceOrdinal) {
        if (deviceOrdinal != 0) {
            throw InvalidInputException.argument("CpuBackendProvider.open", "the CPU backend has one device, 0; asked for " + deviceOrdinal);
        }
        return new CpuBackend();
    }
}

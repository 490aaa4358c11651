package org.lacuna.runtime.cpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.BackendAvailability;
import org.lacuna.runtime.backend.BackendProvider;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * The double-precision reference on the JVM: the oracle every test and {@code lacuna selftest} compare with. Never
 * chosen by rank; asked for by name ({@code -Dlacuna.backend=cpu-reference}).
 */
public final class ReferenceBackendProvider implements BackendProvider {
    public static final String NAME = "cpu-reference";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int rank() {
        return -100;
    }

    @Override
    public BackendAvailability probe() {
        return BackendAvailability.yes("double-precision reference, fork-join pool");
    }

    @Override
    public Backend open(int deviceOrdinal) {
        if (deviceOrdinal != 0) {
            throw InvalidInputException.argument("ReferenceBackendProvider.open", "the reference backend has one device, 0; asked for " + deviceOrdinal);
        }
        return CpuBackend.reference();
    }
}

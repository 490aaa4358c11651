package org.lacuna.api;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.Backends;

/**
 * Entry point: {@code try (Session s = Lacuna.open()) { ... }}. The backend is the highest-ranked available one
 * (CUDA, then CPU) unless {@code -Dlacuna.backend=cpu|cuda} or {@code LACUNA_BACKEND} says otherwise; on a machine
 * without a GPU the CPU backend serves and {@link Session#backendReason()} says why.
 */
public final class Lacuna {
    private Lacuna() {
    }

    /** Opens a session on device 0 of the selected backend. */
    public static Session open() {
        return open(0);
    }

    public static Session open(int deviceOrdinal) {
        Backends.Selection selection = Backends.select();
        Backend backend = selection.chosen().provider().open(deviceOrdinal);
        return new Session(backend, selection.reason());
    }

    /** Opens a session on a named backend ({@code cpu} or {@code cuda}), failing clearly if it is unavailable. */
    public static Session open(String backendName, int deviceOrdinal) {
        for (Backends.Candidate candidate : Backends.survey()) {
            if (candidate.provider().name().equals(backendName)) {
                if (!candidate.availability().available()) {
                    throw new org.lacuna.runtime.error.LacunaException(org.lacuna.runtime.error.ErrorCode.BACKEND_UNAVAILABLE,
                            "Lacuna.open", backendName + " is unavailable: " + candidate.availability().reason());
                }
                return new Session(candidate.provider().open(deviceOrdinal), "asked for by name");
            }
        }
        throw new org.lacuna.runtime.error.LacunaException(org.lacuna.runtime.error.ErrorCode.BACKEND_UNAVAILABLE, "Lacuna.open",
                "no backend named " + backendName);
    }
}

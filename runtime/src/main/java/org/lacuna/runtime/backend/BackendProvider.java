package org.lacuna.runtime.backend;

import org.lacuna.runtime.error.LacunaException;

/**
 * Service-provider interface of a backend, found through {@link java.util.ServiceLoader}. The available provider with
 * the highest {@link #rank()} serves unless {@code -Dlacuna.backend} / {@code LACUNA_BACKEND} names one.
 */
public interface BackendProvider {
    /** Short name used by the override property: {@code cpu}, {@code cuda}. */
    String name();

    /** Higher wins among available providers. */
    int rank();

    /** Checks, without throwing, whether this backend can open here. Cheap enough to call at startup. */
    BackendAvailability probe();

    /** Opens the backend on a device; throws {@link LacunaException} if {@link #probe()} said no. */
    Backend open(int deviceOrdinal);
}

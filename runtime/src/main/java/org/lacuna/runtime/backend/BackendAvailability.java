package org.lacuna.runtime.backend;

/** Whether a backend can serve on this machine and, if not, why. */
public record BackendAvailability(boolean available, String reason) {
    public static BackendAvailability yes(String detail) {
        return new BackendAvailability(true, detail);
    }

    public static BackendAvailability no(String reason) {
        return new BackendAvailability(false, reason);
    }
}

package org.lacuna.api;

import org.lacuna.runtime.backend.Backend;

/** Sessions on a backend a test made (e.g. one wrapping the CPU backend to offer other paths), as Lacuna opens them. */
public final class TestSessions {
    private TestSessions() {
    }

    /** A session on {@code backend}; closing it closes the backend. */
    public static Session on(Backend backend) {
        return new Session(backend, "made by a test");
    }
}

package org.lacuna.runtime.lifetime;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether a resource is closed, for a {@code close()} that may be called again or from several threads and must do
 * its work once: the first {@link #markClosed()} returns true and every later one false, so only the first caller
 * goes on to close. Lock-free, so it may be read and set inside or outside the owner's own lock; an owner whose
 * other calls check the flag under its lock sets it under that lock too, so that a call it admitted finishes before
 * the close goes on.
 */
public final class ClosedFlag {
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Marks the resource closed; true for the first call only, the one that closes the resource. */
    public boolean markClosed() {
        return closed.compareAndSet(false, true);
    }

    public boolean isClosed() {
        return closed.get();
    }
}

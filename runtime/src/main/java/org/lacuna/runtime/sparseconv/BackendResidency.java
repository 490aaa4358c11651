package org.lacuna.runtime.sparseconv;

import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;

/**
 * One backend's side of the state it holds on coordinate sets (their keys and resident maps): the key under which a
 * {@link CoordinateSet} files that state, and the record of which sets hold some. Closing it (the backend closes it
 * before freeing its memory) drops this backend's entry from each of those sets, freeing the arrays, while other
 * backends' entries stay; a set refuses new state for a closed one. The sets are held weakly: this record never keeps
 * a set alive.
 */
public final class BackendResidency implements AutoCloseable {
    private final String backend;
    private final Set<CoordinateSet> sets = Collections.newSetFromMap(new WeakHashMap<>());
    private final ClosedFlag closed = new ClosedFlag();

    public BackendResidency(String backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
    }

    /** Records that {@code set} holds state of this backend; false once the backend closed (nothing recorded). */
    synchronized boolean register(CoordinateSet set) {
        if (closed.isClosed()) {
            return false;
        }
        sets.add(set);
        return true;
    }

    synchronized void unregister(CoordinateSet set) {
        sets.remove(set);
    }

    /** How many sets hold state of this backend, for tests. */
    public synchronized int sets() {
        return sets.size();
    }

    public boolean isClosed() {
        return closed.isClosed();
    }

    /** Drops this backend's state from every set that holds some; idempotent. */
    @Override
    public void close() {
        List<CoordinateSet> held;
        synchronized (this) {
            if (!closed.markClosed()) {
                return;
            }
            held = List.copyOf(sets);
            sets.clear();
        }
        Closer.closeAll("BackendResidency", held.stream().map(set -> (AutoCloseable) () -> set.drop(this)).toList());
    }

    @Override
    public String toString() {
        return "BackendResidency[" + backend + (isClosed() ? ", closed]" : "]");
    }
}

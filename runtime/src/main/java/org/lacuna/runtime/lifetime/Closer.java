package org.lacuna.runtime.lifetime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.error.ResourceClosedException;

/**
 * Resources closed together, last registered first: the one place Lacuna closes several things at once. Every
 * resource is closed even when some fail; the first failure is thrown with the later ones attached as suppressed.
 * A checked exception from a {@code close()} is wrapped in a {@link LacunaException} ({@link ErrorCode#INTERNAL})
 * naming the owner.
 *
 * <p>Registering, removing and closing are thread-safe; {@code close()} runs the resources outside the lock, so a
 * resource whose own close calls {@link #remove} on this closer does not deadlock.
 */
public final class Closer implements AutoCloseable {
    private final String owner;
    private final TreeMap<Long, AutoCloseable> bySequence = new TreeMap<>();
    private final Map<AutoCloseable, Long> sequenceOf = new IdentityHashMap<>();
    private long nextSequence;
    private final ClosedFlag closed = new ClosedFlag();

    /** @param owner what the resources belong to, named in a wrapped failure, e.g. {@code "Session"} */
    public Closer(String owner) {
        this.owner = owner;
    }

    /**
     * Adds {@code resource} (null passes through untouched) and returns it. Registering one already registered
     * keeps its first place.
     *
     * @throws ResourceClosedException after {@link #close()}; the resource is closed first, so nothing leaks
     */
    public <T extends AutoCloseable> T register(T resource) {
        if (resource == null) {
            return null;
        }
        synchronized (this) {
            if (!closed.isClosed()) {
                if (!sequenceOf.containsKey(resource)) {
                    long sequence = nextSequence++;
                    bySequence.put(sequence, resource);
                    sequenceOf.put(resource, sequence);
                }
                return resource;
            }
        }
        throw closeAfter(new ResourceClosedException(owner, owner), resource);
    }

    /** Stops tracking {@code resource} (by identity) without closing it; true if it was registered. */
    public synchronized boolean remove(AutoCloseable resource) {
        Long sequence = sequenceOf.remove(resource);
        if (sequence == null) {
            return false;
        }
        bySequence.remove(sequence);
        return true;
    }

    public synchronized boolean contains(AutoCloseable resource) {
        return sequenceOf.containsKey(resource);
    }

    public synchronized int size() {
        return sequenceOf.size();
    }

    public synchronized boolean isClosed() {
        return closed.isClosed();
    }

    /**
     * Closes every registered resource, last registered first. Idempotent.
     *
     * @throws RuntimeException the first failure, the later ones suppressed in it
     */
    @Override
    public void close() {
        List<AutoCloseable> toClose = drain();
        closeAll(owner, toClose);
    }

    /**
     * Closes every registered resource after {@code failure} (a failed construction, a failed call), attaching what
     * fails here to it as suppressed, and returns {@code failure} for {@code throw closer.closeAfter(e)}.
     */
    public <E extends Throwable> E closeAfter(E failure) {
        closeEach(owner, drain(), failure);
        return failure;
    }

    private synchronized List<AutoCloseable> drain() {
        closed.markClosed();
        List<AutoCloseable> toClose = new ArrayList<>(bySequence.descendingMap().values());
        bySequence.clear();
        sequenceOf.clear();
        return toClose;
    }

    /**
     * Closes each of {@code resources} in the given order (nulls skipped), every one even when some fail.
     *
     * @throws RuntimeException the first failure, the later ones suppressed in it
     */
    public static void closeAll(String owner, AutoCloseable... resources) {
        closeAll(owner, List.of(nonNull(resources)));
    }

    /** As {@link #closeAll(String, AutoCloseable...)} for a list (nulls skipped). */
    public static void closeAll(String owner, List<? extends AutoCloseable> resources) {
        RuntimeException first = closeEach(owner, resources, null);
        if (first != null) {
            throw first;
        }
    }

    /**
     * Closes each of {@code resources} in the given order after {@code failure}, attaching what fails here to it as
     * suppressed; returns {@code failure}.
     */
    public static <E extends Throwable> E closeAfter(E failure, AutoCloseable... resources) {
        closeEach("", List.of(nonNull(resources)), failure);
        return failure;
    }

    /**
     * Closes every resource; each failure goes into {@code primary} as suppressed when there is one, else the first
     * is returned with the later ones suppressed in it.
     */
    private static RuntimeException closeEach(String owner, List<? extends AutoCloseable> resources,
                                              Throwable primary) {
        RuntimeException first = null;
        for (AutoCloseable resource : resources) {
            if (resource == null) {
                continue;
            }
            try {
                resource.close();
            } catch (Exception e) {
                if (e == primary || e == first) {
                    continue;
                }
                RuntimeException failure = unchecked(owner, e);
                if (primary != null) {
                    primary.addSuppressed(failure);
                } else if (first == null) {
                    first = failure;
                } else {
                    first.addSuppressed(failure);
                }
            }
        }
        return first;
    }

    private static AutoCloseable[] nonNull(AutoCloseable[] resources) {
        return Arrays.stream(resources).filter(Objects::nonNull).toArray(AutoCloseable[]::new);
    }

    private static RuntimeException unchecked(String owner, Exception e) {
        if (e instanceof RuntimeException r) {
            return r;
        }
        return new LacunaException(ErrorCode.INTERNAL, owner.isEmpty() ? "close" : owner + ".close",
                "closing a resource failed: " + e, e);
    }
}

package org.lacuna.api;

import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.lifetime.Closer;

/**
 * Temporaries of one piece of work: what the session makes on this thread while the scope is open belongs to it,
 * and {@link #close()} closes it, the most recently made first (see {@link Session#scope()}). Made by
 * {@link Session#scope()}; used from the thread that opened it.
 */
public final class Scope implements AutoCloseable {
    private final Session session;
    private final Scope parent;
    private final Closer closer = new Closer("Scope");

    Scope(Session session, Scope parent) {
        this.session = session;
        this.parent = parent;
    }

    /**
     * Hands {@code resource} (a tensor made in this scope, or a layer) to the enclosing scope, or to the session
     * when this is the outermost, so closing this scope leaves it open. Keeping a view keeps the tensor it views.
     *
     * @throws InvalidInputException if this scope does not own it (made elsewhere, or kept already)
     */
    public <T extends AutoCloseable> T keep(T resource) {
        if (resource == null) {
            throw InvalidInputException.argument("Scope.keep", "resource is null");
        }
        AutoCloseable tracked = resource instanceof Tensor tensor ? tensor.root() : resource;
        if (!closer.remove(tracked)) {
            throw InvalidInputException.argument("Scope.keep", tracked + " does not belong to this scope (made "
                    + "outside it, in another session, or kept already)");
        }
        Closer target = session.outerHolder(parent);
        if (tracked instanceof Tensor tensor) {
            tensor.ownedBy(target);
        }
        target.register(tracked);
        return resource;
    }

    public Session session() {
        return session;
    }

    public boolean isClosed() {
        return closer.isClosed();
    }

    /** Closes what the scope owns, the scopes opened inside it included. Idempotent. */
    @Override
    public void close() {
        if (closer.isClosed()) {
            return;
        }
        session.outerHolder(parent).remove(this);
        closer.close();
        session.innermostScope(); // drops this scope from the thread's stack when it was the innermost
    }

    Scope parent() {
        return parent;
    }

    Closer closer() {
        return closer;
    }
}

package org.lacuna.runtime.internal.nativelib;

import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;

/**
 * One handle of a CUDA library (cuBLAS, cuSPARSE) through whichever binding serves it: the library's description,
 * the handle's version, the closed flag and a close that destroys the handle exactly once. Subclasses serialise their
 * calls ({@code synchronized}) because a handle's stream is part of its state, and start each with
 * {@link #ensureOpen}.
 */
public abstract class LibraryHandle implements AutoCloseable {
    private final String what;
    private final String description;
    private final int version;
    private final ClosedFlag closed = new ClosedFlag();

    /**
     * @param what        named when a closed handle is used, e.g. {@code "cuBLAS handle"}
     * @param description which binding on which file, with the library's version
     * @param version     the version the handle reports
     */
    protected LibraryHandle(String what, String description, int version) {
        this.what = what;
        this.description = description;
        this.version = version;
    }

    /**
     * Wraps a handle just created; if wrapping fails (reading its version, say), the handle is destroyed and the
     * failure rethrown, with a failure to destroy suppressed in it.
     */
    public static <H, T> T adopt(H handle, Function<H, T> wrap, Consumer<H> destroy) {
        try {
            return wrap.apply(handle);
        } catch (RuntimeException e) {
            try {
                destroy.accept(handle);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Creates a handle, reads its version and wraps both; if reading the version or wrapping fails, the handle is
     * destroyed as in {@link #adopt}.
     */
    public static <H, T> T open(Supplier<H> create, ToIntFunction<H> version, BiFunction<H, Integer, T> wrap,
                                Consumer<H> destroy) {
        return adopt(create.get(), handle -> wrap.apply(handle, version.applyAsInt(handle)), destroy);
    }

    public final String description() {
        return description;
    }

    public final int version() {
        return version;
    }

    /** @throws ResourceClosedException naming {@code call} once the handle is closed */
    protected final synchronized void ensureOpen(String call) {
        if (closed.isClosed()) {
            throw new ResourceClosedException(call, what);
        }
    }

    public final boolean isClosed() {
        return closed.isClosed();
    }

    /** Destroys the handle on the first call; later calls do nothing. */
    @Override
    public final synchronized void close() {
        if (!closed.markClosed()) {
            return;
        }
        destroy();
    }

    /** Destroys the native handle; called once, by {@link #close()}. */
    protected abstract void destroy();
}

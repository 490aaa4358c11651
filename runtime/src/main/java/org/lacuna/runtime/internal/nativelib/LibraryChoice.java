package org.lacuna.runtime.internal.nativelib;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The one choice of a native library for this JVM (nvrtc, cuBLAS, cuSPARSE), made on first use and memoised: a JCuda
 * binding cannot switch files once bound. A failed choice is memoised too, so every caller gets the same complete
 * list of what was tried; choosing never throws.
 *
 * @param <T> what the choice yields: a bound library, or a binding
 */
public final class LibraryChoice<T> {
    private final LibrarySpec spec;
    private final Supplier<SearchResult<T>> choose;
    private volatile SearchResult<T> result;

    /** @param choose runs the search on the real properties and environment, once */
    public LibraryChoice(LibrarySpec spec, Supplier<SearchResult<T>> choose) {
        this.spec = spec;
        this.choose = choose;
    }

    /** The memoised outcome, attempts included. */
    public SearchResult<T> result() {
        SearchResult<T> r = result;
        if (r == null) {
            synchronized (this) {
                r = result;
                if (r == null) {
                    r = choose();
                    result = r;
                }
            }
        }
        return r;
    }

    /**
     * What was chosen.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException listing every place tried, when nothing could be bound
     */
    public T get() {
        return result().orElseThrow();
    }

    /** What was chosen, or empty; never throws. */
    public Optional<T> find() {
        return result().value();
    }

    /** For {@code lacuna info}: which binding serves and why the other places did not. Never throws. */
    public NativeLibraryReport report(Function<T, String> describe) {
        return result().report(describe);
    }

    private SearchResult<T> choose() {
        try {
            return choose.get();
        } catch (RuntimeException | LinkageError e) {
            return SearchResult.notFound(spec, List.of(SearchAttempt.rejected(SearchStep.BINDING_SETTING, null,
                    "selection failed: " + Failures.describe(e))));
        }
    }
}

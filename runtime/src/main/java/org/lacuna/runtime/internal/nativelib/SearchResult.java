package org.lacuna.runtime.internal.nativelib;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.lacuna.runtime.error.LibraryLoadException;

/**
 * What a library search (or a binding selection built on one) came to: the value that serves, if any, and every
 * place looked at on the way, in order.
 */
public final class SearchResult<T> {
    private final LibrarySpec spec;
    private final List<SearchAttempt> attempts;
    private final T value;
    private final LibraryCandidate selected;

    private SearchResult(LibrarySpec spec, List<SearchAttempt> attempts, T value, LibraryCandidate selected) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.attempts = List.copyOf(attempts);
        this.value = value;
        this.selected = selected;
    }

    public static <T> SearchResult<T> found(LibrarySpec spec, List<SearchAttempt> attempts, T value,
                                            LibraryCandidate selected) {
        return new SearchResult<>(spec, attempts, Objects.requireNonNull(value, "value"),
                Objects.requireNonNull(selected, "selected"));
    }

    public static <T> SearchResult<T> notFound(LibrarySpec spec, List<SearchAttempt> attempts) {
        return new SearchResult<>(spec, attempts, null, null);
    }

    /** This result with {@code more} attempts after its own (e.g. a fallback tried once the search came up empty). */
    public SearchResult<T> followedBy(List<SearchAttempt> more, T foundValue, LibraryCandidate foundCandidate) {
        List<SearchAttempt> all = new ArrayList<>(attempts);
        all.addAll(more);
        return foundValue == null ? notFound(spec, all) : found(spec, all, foundValue, foundCandidate);
    }

    public LibrarySpec spec() {
        return spec;
    }

    public boolean isFound() {
        return value != null;
    }

    public Optional<T> value() {
        return Optional.ofNullable(value);
    }

    /** The file that serves, and the step that found it. */
    public Optional<LibraryCandidate> selected() {
        return Optional.ofNullable(selected);
    }

    public List<SearchAttempt> attempts() {
        return attempts;
    }

    /** The value, or a {@link LibraryLoadException} whose message lists every attempt. */
    public T orElseThrow() {
        if (value == null) {
            throw new LibraryLoadException(spec.name(), failureMessage(), null);
        }
        return value;
    }

    /** Multi-line: what was wanted, every place tried with its outcome, and how to point Lacuna at a library. */
    public String failureMessage() {
        StringBuilder message = new StringBuilder("no usable ").append(spec.name()).append(" library (")
                .append(spec.sonameList()).append("). Tried, in order:");
        for (SearchAttempt attempt : attempts) {
            message.append("\n  - ").append(attempt.describe());
        }
        message.append("\nSet ").append(spec.pathProperty()).append(" (or ").append(spec.pathEnvironmentVariable())
                .append(") to the library file or its folder.");
        return message.toString();
    }

    /** For {@code lacuna info}: which binding serves ({@code describe} of the value) and what else was tried. */
    public NativeLibraryReport report(Function<? super T, String> describe) {
        return new NativeLibraryReport(spec.name(), value == null ? null : describe.apply(value), attempts);
    }
}

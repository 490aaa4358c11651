package org.lacuna.runtime.internal.nativelib;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Chooses how to bind a library the search finds: JCuda's JNI binding for a {@code .so.12}, java.lang.foreign for any
 * other soname, unless {@code lacuna.<lib>.binding} forces one. A candidate that fails to bind is recorded with its
 * error and the search goes on; a copy bundled in a jar, if given, is tried after every other place.
 */
public final class BindingSelector<T> {
    private final LibrarySpec spec;
    private final CandidateLoader<T> jcuda;
    private final CandidateLoader<T> ffm;

    public BindingSelector(LibrarySpec spec, CandidateLoader<T> jcuda, CandidateLoader<T> ffm) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.jcuda = Objects.requireNonNull(jcuda, "jcuda");
        this.ffm = Objects.requireNonNull(ffm, "ffm");
    }

    public SearchResult<T> select(SearchEnvironment environment) {
        return select(environment, null);
    }

    /** Searches, then falls back to {@code bundled} (may be null) when no place served. Never throws for a load failure. */
    public SearchResult<T> select(SearchEnvironment environment, BundledCopy bundled) {
        BindingPreference preference;
        try {
            preference = BindingPreference.read(environment, spec);
        } catch (IllegalArgumentException e) {
            return SearchResult.notFound(spec, List.of(SearchAttempt.rejected(SearchStep.BINDING_SETTING, null,
                    e.getMessage())));
        }
        CandidateLoader<T> loader = loaderFor(preference);
        SearchResult<T> searched = new NativeLibrarySearch(environment).search(spec, loader);
        if (searched.isFound() || bundled == null) {
            return searched;
        }
        return tryBundled(searched, bundled, loader);
    }

    /** Binds a candidate as {@code preference} says. */
    public CandidateLoader<T> loaderFor(BindingPreference preference) {
        return candidate -> preference.useJcuda(candidate, spec) ? jcuda.load(candidate) : ffm.load(candidate);
    }

    private SearchResult<T> tryBundled(SearchResult<T> searched, BundledCopy bundled, CandidateLoader<T> loader) {
        Optional<Path> file;
        try {
            file = bundled.extract();
        } catch (Exception e) {
            return searched.followedBy(List.of(SearchAttempt.rejected(SearchStep.BUNDLED_JAR, null,
                    bundled.origin() + ": " + Failures.describe(e))), null, null);
        }
        if (file.isEmpty()) {
            return searched.followedBy(List.of(SearchAttempt.notConfigured(SearchStep.BUNDLED_JAR,
                    bundled.origin() + " is not on the class path")), null, null);
        }
        LibraryCandidate candidate = new LibraryCandidate(file.get(), SearchStep.BUNDLED_JAR);
        try {
            T value = loader.load(candidate);
            return searched.followedBy(List.of(SearchAttempt.selected(SearchStep.BUNDLED_JAR, file.get(),
                    bundled.origin())), value, candidate);
        } catch (Exception | LinkageError e) {
            return searched.followedBy(List.of(SearchAttempt.rejected(SearchStep.BUNDLED_JAR, file.get(),
                    Failures.describe(e))), null, null);
        }
    }

    /** A copy of the library shipped in a jar, extracted to a file on demand. */
    public interface BundledCopy {
        /** Where it comes from, e.g. {@code org.bytedeco:cuda-redist}. */
        String origin();

        /** The extracted file, or empty when the jar is not on the class path. */
        Optional<Path> extract() throws Exception;
    }
}

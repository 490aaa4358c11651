package org.lacuna.runtime.internal.nvrtc;

import java.util.List;
import java.util.Optional;
import org.lacuna.runtime.internal.nativelib.Failures;
import org.lacuna.runtime.internal.nativelib.LibrarySpec;
import org.lacuna.runtime.internal.nativelib.NativeLibraryReport;
import org.lacuna.runtime.internal.nativelib.SearchAttempt;
import org.lacuna.runtime.internal.nativelib.SearchEnvironment;
import org.lacuna.runtime.internal.nativelib.SearchResult;
import org.lacuna.runtime.internal.nativelib.SearchStep;

/**
 * The NVRTC binding of this JVM, chosen once (see {@link NvrtcSelector} for the order) from the real properties and
 * environment. Memoised because JCuda's JNvrtc, once bound to a libnvrtc.so.12, cannot switch; a failed choice is
 * memoised too, so every caller gets the same complete list of what was tried.
 */
public final class NvrtcBindings {
    private NvrtcBindings() {
    }

    /**
     * The binding that serves.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException whose message lists every place tried and why it failed
     */
    public static NvrtcBinding get() {
        return Choice.RESULT.orElseThrow();
    }

    /** The binding that serves, or empty; never throws. */
    public static Optional<NvrtcBinding> find() {
        return Choice.RESULT.value();
    }

    /** For {@code lacuna info}: which binding serves and why the other places did not. Never throws. */
    public static NativeLibraryReport report() {
        return Choice.RESULT.report(NvrtcBinding::description);
    }

    /** The full selection outcome, attempts included. */
    public static SearchResult<NvrtcBinding> selection() {
        return Choice.RESULT;
    }

    private static final class Choice {
        static final SearchResult<NvrtcBinding> RESULT = choose();

        private static SearchResult<NvrtcBinding> choose() {
            try {
                return new NvrtcSelector(SearchEnvironment.system()).select();
            } catch (RuntimeException | LinkageError e) {
                // A class initialiser must not fail: the failure becomes the memoised answer.
                return SearchResult.notFound(LibrarySpec.NVRTC, List.of(SearchAttempt.rejected(
                        SearchStep.BINDING_SETTING, null, "selection failed: " + Failures.describe(e))));
            }
        }
    }
}

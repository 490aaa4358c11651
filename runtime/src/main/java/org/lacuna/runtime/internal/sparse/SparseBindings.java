package org.lacuna.runtime.internal.sparse;

import java.util.List;
import org.lacuna.runtime.internal.nativelib.BindingSelector;
import org.lacuna.runtime.internal.nativelib.Failures;
import org.lacuna.runtime.internal.nativelib.LibrarySpec;
import org.lacuna.runtime.internal.nativelib.NativeLibraryReport;
import org.lacuna.runtime.internal.nativelib.SearchAttempt;
import org.lacuna.runtime.internal.nativelib.SearchEnvironment;
import org.lacuna.runtime.internal.nativelib.SearchResult;
import org.lacuna.runtime.internal.nativelib.SearchStep;

/**
 * The cuSPARSE library of this JVM, chosen once: the first place of the library search that holds a loadable
 * {@code libcusparse.so.12} (bound through JCuda's JCusparse) or {@code libcusparse.so.13} (through
 * java.lang.foreign); {@code lacuna.cusparse.binding=jcuda|ffm} forces one binding. Choosing loads the library but
 * creates no handle, so {@link #report()} works without a GPU.
 */
public final class SparseBindings {
    private SparseBindings() {
    }

    /**
     * A new cuSPARSE handle in the calling thread's current CUDA context; the caller closes it.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException listing every place tried, when no cuSPARSE could be bound
     * @throws org.lacuna.runtime.error.CudaException when cusparseCreate fails (no GPU, no context)
     */
    public static SparseBinding open() {
        return Choice.RESULT.orElseThrow().open();
    }

    /** Which library would serve and why the other places did not; loads no GPU state. Never throws. */
    public static NativeLibraryReport report() {
        return Choice.RESULT.report(SparseLibrary::description);
    }

    /** Same as {@link #report()}. */
    public static NativeLibraryReport describe() {
        return report();
    }

    /** Chooses for {@code environment} without memoising; for tests and diagnostics. */
    public static SearchResult<SparseLibrary> select(SearchEnvironment environment) {
        return new BindingSelector<SparseLibrary>(LibrarySpec.CUSPARSE,
                candidate -> JcudaSparse.bind(candidate.file()),
                candidate -> FfmSparse.bind(candidate.file()))
                .select(environment);
    }

    private static final class Choice {
        static final SearchResult<SparseLibrary> RESULT = choose();

        private static SearchResult<SparseLibrary> choose() {
            try {
                return select(SearchEnvironment.system());
            } catch (RuntimeException | LinkageError e) {
                // A class initialiser must not fail: the failure becomes the memoised answer.
                return SearchResult.notFound(LibrarySpec.CUSPARSE, List.of(SearchAttempt.rejected(
                        SearchStep.BINDING_SETTING, null, "selection failed: " + Failures.describe(e))));
            }
        }
    }
}

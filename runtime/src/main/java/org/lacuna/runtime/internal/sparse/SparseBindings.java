package org.lacuna.runtime.internal.sparse;

import org.lacuna.runtime.internal.nativelib.BindingSelector;
import org.lacuna.runtime.internal.nativelib.LibraryChoice;
import org.lacuna.runtime.internal.nativelib.LibrarySpec;
import org.lacuna.runtime.internal.nativelib.NativeLibraryReport;
import org.lacuna.runtime.internal.nativelib.SearchEnvironment;
import org.lacuna.runtime.internal.nativelib.SearchResult;

/**
 * The cuSPARSE library of this JVM, chosen once: the first place of the library search that holds a loadable
 * {@code libcusparse.so.12} (bound through JCuda's JCusparse) or {@code libcusparse.so.13} (through
 * java.lang.foreign); {@code lacuna.cusparse.binding=jcuda|ffm} forces one binding. Choosing loads the library but
 * creates no handle, so {@link #report()} works without a GPU.
 */
public final class SparseBindings {
    private static final LibraryChoice<SparseLibrary> CHOICE = new LibraryChoice<>(LibrarySpec.CUSPARSE,
            () -> select(SearchEnvironment.system()));

    private SparseBindings() {
    }

    /**
     * A new cuSPARSE handle in the calling thread's current CUDA context; the caller closes it.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException listing every place tried, when no cuSPARSE could be bound
     * @throws org.lacuna.runtime.error.CudaException when cusparseCreate fails (no GPU, no context)
     */
    public static SparseBinding open() {
        return CHOICE.get().open();
    }

    /** Which library would serve and why the other places did not; loads no GPU state. Never throws. */
    public static NativeLibraryReport report() {
        return CHOICE.report(SparseLibrary::description);
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
}

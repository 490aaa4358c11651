package org.lacuna.runtime.internal.blas;

import org.lacuna.runtime.internal.nativelib.BindingSelector;
import org.lacuna.runtime.internal.nativelib.LibraryChoice;
import org.lacuna.runtime.internal.nativelib.LibrarySpec;
import org.lacuna.runtime.internal.nativelib.NativeLibraryReport;
import org.lacuna.runtime.internal.nativelib.SearchEnvironment;
import org.lacuna.runtime.internal.nativelib.SearchResult;

/**
 * The cuBLAS library of this JVM, chosen once: the first place of the library search that holds a loadable
 * {@code libcublas.so.12} (bound through JCuda's JCublas2) or {@code libcublas.so.13} (through java.lang.foreign);
 * {@code lacuna.cublas.binding=jcuda|ffm} forces one binding. Choosing loads the library but creates no handle, so
 * {@link #report()} works without a GPU.
 */
public final class BlasBindings {
    private static final LibraryChoice<BlasLibrary> CHOICE = new LibraryChoice<>(LibrarySpec.CUBLAS,
            () -> select(SearchEnvironment.system()));

    private BlasBindings() {
    }

    /**
     * A new cuBLAS handle in the calling thread's current CUDA context; the caller closes it.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException listing every place tried, when no cuBLAS could be bound
     * @throws org.lacuna.runtime.error.CudaException when cublasCreate fails (no GPU, no context)
     */
    public static BlasBinding open() {
        return CHOICE.get().open();
    }

    /** Which library would serve and why the other places did not; loads no GPU state. Never throws. */
    public static NativeLibraryReport report() {
        return CHOICE.report(BlasLibrary::description);
    }

    /** Same as {@link #report()}. */
    public static NativeLibraryReport describe() {
        return report();
    }

    /** Chooses for {@code environment} without memoising; for tests and diagnostics. */
    public static SearchResult<BlasLibrary> select(SearchEnvironment environment) {
        return new BindingSelector<BlasLibrary>(LibrarySpec.CUBLAS,
                candidate -> JcudaBlas.bind(candidate.file()),
                candidate -> FfmBlas.bind(candidate.file()))
                .select(environment);
    }
}

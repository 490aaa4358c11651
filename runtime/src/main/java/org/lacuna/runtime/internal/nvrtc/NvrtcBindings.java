package org.lacuna.runtime.internal.nvrtc;

import java.util.Optional;
import org.lacuna.runtime.internal.nativelib.LibraryChoice;
import org.lacuna.runtime.internal.nativelib.LibrarySpec;
import org.lacuna.runtime.internal.nativelib.NativeLibraryReport;
import org.lacuna.runtime.internal.nativelib.SearchEnvironment;
import org.lacuna.runtime.internal.nativelib.SearchResult;

/**
 * The NVRTC binding of this JVM, chosen once (see {@link NvrtcSelector} for the order) from the real properties and
 * environment. Memoised because JCuda's JNvrtc, once bound to a libnvrtc.so.12, cannot switch; a failed choice is
 * memoised too, so every caller gets the same complete list of what was tried.
 */
public final class NvrtcBindings {
    private static final LibraryChoice<NvrtcBinding> CHOICE = new LibraryChoice<>(LibrarySpec.NVRTC,
            () -> new NvrtcSelector(SearchEnvironment.system()).select());

    private NvrtcBindings() {
    }

    /**
     * The binding that serves.
     *
     * @throws org.lacuna.runtime.error.LibraryLoadException whose message lists every place tried and why it failed
     */
    public static NvrtcBinding get() {
        return CHOICE.get();
    }

    /** The binding that serves, or empty; never throws. */
    public static Optional<NvrtcBinding> find() {
        return CHOICE.find();
    }

    /** For {@code lacuna info}: which binding serves and why the other places did not. Never throws. */
    public static NativeLibraryReport report() {
        return CHOICE.report(NvrtcBinding::description);
    }

    /** The full selection outcome, attempts included. */
    public static SearchResult<NvrtcBinding> selection() {
        return CHOICE.result();
    }
}

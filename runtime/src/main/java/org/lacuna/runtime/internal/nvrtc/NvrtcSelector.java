package org.lacuna.runtime.internal.nvrtc;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.lacuna.runtime.error.LibraryLoadException;
import org.lacuna.runtime.internal.nativelib.BindingSelector;
import org.lacuna.runtime.internal.nativelib.JcudaSlot;
import org.lacuna.runtime.internal.nativelib.LibraryCandidate;
import org.lacuna.runtime.internal.nativelib.LibrarySpec;
import org.lacuna.runtime.internal.nativelib.SearchEnvironment;
import org.lacuna.runtime.internal.nativelib.SearchResult;
import org.lacuna.runtime.internal.nativelib.Sonames;

/**
 * Chooses the NVRTC binding for one environment, in order: the explicit path and the system places of
 * {@link org.lacuna.runtime.internal.nativelib.NativeLibrarySearch} ({@code libnvrtc.so.12} through JCuda's JNvrtc,
 * {@code libnvrtc.so.13} or any other soname through {@link FfmNvrtc}), then the NVRTC 12.9 of the
 * org.bytedeco:cuda-redist jar. Each library's builtins ({@code libnvrtc-builtins.so.<major>.*} in its folder) are
 * loaded first, so NVRTC finds them whatever the loader's path, and a library is only chosen once it has compiled an
 * empty kernel. {@link NvrtcBindings} memoises the choice per JVM.
 */
public final class NvrtcSelector {
    /** JNvrtc can bind one libnvrtc.so.12 per JVM; every JCuda NVRTC binding goes through this slot. */
    private static final JcudaSlot<JcudaNvrtc> JNVRTC = new JcudaSlot<>("nvrtc", "JCuda JNvrtc");
    private static final String PROBE_SOURCE = "extern \"C\" __global__ void lacuna_probe() {}\n";
    private static final String BUNDLED_ORIGIN = "org.bytedeco:cuda-redist (linux-x86_64) NVRTC";

    private final SearchEnvironment environment;
    private final Supplier<Optional<Path>> bundledNvrtc;

    /** The real environment's search and the cuda-redist jar, if it is on the class path. */
    public NvrtcSelector(SearchEnvironment environment) {
        this(environment, () -> MavenNvrtcLibrary.extract().map(MavenNvrtcLibrary.Extracted::nvrtc));
    }

    /** @param bundledNvrtc the bundled NVRTC file to fall back to (its builtins beside it), or empty for none */
    public NvrtcSelector(SearchEnvironment environment, Supplier<Optional<Path>> bundledNvrtc) {
        this.environment = environment;
        this.bundledNvrtc = bundledNvrtc;
    }

    public SearchResult<NvrtcBinding> select() {
        BindingSelector<NvrtcBinding> selector = new BindingSelector<>(LibrarySpec.NVRTC,
                NvrtcSelector::bindWithJcuda, NvrtcSelector::bindWithFfm);
        return selector.select(environment, new BindingSelector.BundledCopy() {
            @Override
            public String origin() {
                return BUNDLED_ORIGIN;
            }

            @Override
            public Optional<Path> extract() {
                return bundledNvrtc.get();
            }
        });
    }

    private static NvrtcBinding bindWithJcuda(LibraryCandidate candidate) {
        Path builtins = builtinsBeside(candidate);
        return probed(JNVRTC.bind(candidate.file(), file -> JcudaNvrtc.load(file, builtins)));
    }

    private static NvrtcBinding bindWithFfm(LibraryCandidate candidate) {
        return probed(FfmNvrtc.load(candidate.file(), builtinsBeside(candidate)));
    }

    /**
     * Compiles an empty kernel (to PTX, about 15 ms): a library that loads but cannot compile, typically because
     * NVRTC cannot open its builtins, is rejected here with NVRTC's own log rather than failing every kernel later.
     */
    private static NvrtcBinding probed(NvrtcBinding binding) {
        NvrtcBinding.NvrtcResult probe = binding.compile(PROBE_SOURCE, "lacuna_probe.cu", Map.of(), List.of());
        if (!probe.success()) {
            throw new LibraryLoadException("nvrtc", binding.description() + " loads but cannot compile: "
                    + probe.log().strip(), null);
        }
        return binding;
    }

    /** {@code libnvrtc-builtins.so.<major>.<minor>} in the library's folder, or null when absent or no major known. */
    private static Path builtinsBeside(LibraryCandidate candidate) {
        return candidate.majorVersion().stream()
                .mapToObj(major -> Sonames.newestInFolder(candidate.folder(), "libnvrtc-builtins.so." + major))
                .flatMap(Optional::stream)
                .findFirst()
                .orElse(null);
    }
}

package org.lacuna.runtime.internal.nativelib;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A native library to find: its short name (which names the override settings {@code lacuna.<name>.path} and
 * {@code LACUNA_<NAME>_PATH}) and the file names it may have, most wanted first.
 */
public record LibrarySpec(String name, List<String> sonames) {
    public static final LibrarySpec NVRTC = new LibrarySpec("nvrtc", List.of("libnvrtc.so.12", "libnvrtc.so.13"));
    public static final LibrarySpec CUBLAS = new LibrarySpec("cublas", List.of("libcublas.so.12", "libcublas.so.13"));
    public static final LibrarySpec CUSPARSE = new LibrarySpec("cusparse", List.of("libcusparse.so.12", "libcusparse.so.13"));
    public static final LibrarySpec CUDA_DRIVER = new LibrarySpec("cuda", List.of("libcuda.so.1"));

    public LibrarySpec {
        Objects.requireNonNull(name, "name");
        sonames = List.copyOf(sonames);
        if (name.isBlank() || sonames.isEmpty()) {
            throw new IllegalArgumentException("a library needs a name and at least one soname");
        }
    }

    /** {@code lacuna.nvrtc.path}. */
    public String pathProperty() {
        return "lacuna." + name + ".path";
    }

    /** {@code LACUNA_NVRTC_PATH}. */
    public String pathEnvironmentVariable() {
        return "LACUNA_" + name.toUpperCase(Locale.ROOT) + "_PATH";
    }

    /** {@code lacuna.nvrtc.binding}. */
    public String bindingProperty() {
        return "lacuna." + name + ".binding";
    }

    /** {@code LACUNA_NVRTC_BINDING}. */
    public String bindingEnvironmentVariable() {
        return "LACUNA_" + name.toUpperCase(Locale.ROOT) + "_BINDING";
    }

    public String sonameList() {
        return String.join(", ", sonames);
    }
}

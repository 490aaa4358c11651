package org.lacuna.runtime.internal.nativelib;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * A sealed-off search environment under a temporary folder: its own home, default CUDA install, system Python root
 * and system library folder, and only the variables and properties a test sets. Nothing of the real machine leaks in.
 */
public final class SearchFixture {
    private final Path root;
    private final Map<String, String> environment = new HashMap<>();
    private final Properties properties = new Properties();

    public SearchFixture(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path home() {
        return root.resolve("home");
    }

    /** Stands in for /usr/local/cuda. */
    public Path defaultCuda() {
        return root.resolve("usr-local-cuda");
    }

    /** Stands in for /usr/lib (system Pythons live in python3* under it). */
    public Path pythonRoot() {
        return root.resolve("usr-lib");
    }

    /** Stands in for the loader's folders (/usr/lib/x86_64-linux-gnu ...). */
    public Path systemFolder() {
        return root.resolve("system-lib");
    }

    public SearchFixture env(String name, String value) {
        environment.put(name, value);
        return this;
    }

    public SearchFixture env(String name, Path value) {
        return env(name, value.toString());
    }

    public SearchFixture property(String name, String value) {
        properties.setProperty(name, value);
        return this;
    }

    public SearchEnvironment environment() {
        return SearchEnvironment.of(environment, properties)
                .withFolders(home(), defaultCuda(), List.of(pythonRoot()), List.of(systemFolder()));
    }

    /** An empty file (its folders created): enough for a search that does not load. */
    public static Path emptyFile(Path file) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, new byte[0]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A file no dynamic loader accepts: 64 zero bytes, so dlopen says "invalid ELF header". */
    public static Path notAnElfFile(Path file) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, new byte[64]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A link named {@code file} to {@code target}, folders created. */
    public static Path link(Path file, Path target) {
        try {
            Files.createDirectories(file.getParent());
            return Files.createSymbolicLink(file, target.toAbsolutePath());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A real shared library of this machine that is certainly not a CUDA library (libm), if one can be found. */
    public static Optional<Path> someSystemLibrary() {
        Stream<Path> places = Stream.of("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
                "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu").map(Path::of);
        return places.map(folder -> folder.resolve("libm.so.6")).filter(Files::isRegularFile).findFirst();
    }
}

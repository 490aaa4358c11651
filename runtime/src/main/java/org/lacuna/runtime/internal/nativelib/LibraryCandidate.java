package org.lacuna.runtime.internal.nativelib;

import java.nio.file.Path;
import java.util.Objects;
import java.util.OptionalInt;

/** A file that exists where the search looked and may be the wanted library; loading it decides. */
public record LibraryCandidate(Path file, SearchStep step) {
    public LibraryCandidate {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(step, "step");
    }

    public Path folder() {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? file.toAbsolutePath() : parent;
    }

    /** The soname's major version (12 for {@code libnvrtc.so.12} or {@code libnvrtc.so.12.9.86}), if it has one. */
    public OptionalInt majorVersion() {
        return Sonames.majorVersion(file);
    }
}

package org.lacuna.runtime.internal.nativelib;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Function;
import org.lacuna.runtime.error.LibraryLoadException;

/**
 * One JCuda JNI library's binding in this JVM. A JNI library such as JNvrtc resolves its {@code .so.12} dependency
 * once, when it is first loaded, and can never switch to another file: asking for a second file would silently keep
 * using the first. This slot remembers the file bound and refuses any other one with a clear message.
 */
public final class JcudaSlot<T> {
    private final String library;
    private final String jniName;
    private Path boundFile;
    private T bound;

    /**
     * @param library short name for errors, e.g. {@code nvrtc}
     * @param jniName the JCuda part, e.g. {@code JCuda JNvrtc}
     */
    public JcudaSlot(String library, String jniName) {
        this.library = library;
        this.jniName = jniName;
    }

    /** The binding for {@code file}: made by {@code binder} the first time, the same one again after that. */
    public synchronized T bind(Path file, Function<Path, T> binder) {
        Path identity = identity(file);
        if (bound != null) {
            if (identity.equals(boundFile)) {
                return bound;
            }
            throw new LibraryLoadException(library, jniName + " is already bound to " + boundFile
                    + " in this JVM and cannot switch to " + file + "; restart the JVM to use another library", null);
        }
        T created = binder.apply(file);
        bound = created;
        boundFile = identity;
        return created;
    }

    /** The file bound so far, or null. */
    public synchronized Path boundFile() {
        return boundFile;
    }

    private static Path identity(Path file) {
        try {
            return file.toRealPath();
        } catch (IOException | SecurityException e) {
            return file.toAbsolutePath().normalize();
        }
    }
}

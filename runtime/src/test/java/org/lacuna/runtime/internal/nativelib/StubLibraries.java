package org.lacuna.runtime.internal.nativelib;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Builds small C stand-ins for CUDA libraries with the machine's C compiler, so the java.lang.foreign bindings can be
 * driven end to end (symbol names, argument order and types, status handling) without a GPU. Each stub records the
 * arguments it received in global arrays the test reads back. Tests that need one skip when no compiler is present.
 * <p>
 * A stub's soname is never the real one: a JCuda JNI library loaded later in the same JVM must not mistake the stub
 * for the library it links against.
 */
public final class StubLibraries {
    private StubLibraries() {
    }

    /** Compiles {@code source} into {@code folder/fileName}, or skips the test when there is no C compiler. */
    public static Path compile(Path folder, String fileName, String source) {
        try {
            Files.createDirectories(folder);
            Path c = Files.writeString(folder.resolve(fileName + ".c"), source);
            Path library = folder.resolve(fileName);
            List<String> command = List.of("cc", "-shared", "-fPIC", "-O1", "-o", library.toString(), c.toString(),
                    "-Wl,-soname,liblacuna-test-stub-" + Math.abs(fileName.hashCode()) + ".so");
            Process process;
            try {
                process = new ProcessBuilder(command).redirectErrorStream(true).start();
            } catch (IOException e) {
                Assumptions.abort("no C compiler (cc) to build a stub library: " + e.getMessage());
                throw e;
            }
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("cc failed for " + fileName + ":\n" + output);
            }
            return library;
        } catch (IOException e) {
            throw new IllegalStateException("cannot build stub " + fileName, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted building stub " + fileName, e);
        }
    }

    /** A global {@code int64_t name[count]} of a loaded stub. */
    public static MemorySegment longs(LoadedLibrary stub, String name, int count) {
        return global(stub, name, count * ValueLayout.JAVA_LONG.byteSize());
    }

    /** A global {@code int name[count]} of a loaded stub. */
    public static MemorySegment ints(LoadedLibrary stub, String name, int count) {
        return global(stub, name, count * ValueLayout.JAVA_INT.byteSize());
    }

    /** A global {@code float name[count]} of a loaded stub. */
    public static MemorySegment floats(LoadedLibrary stub, String name, int count) {
        return global(stub, name, count * ValueLayout.JAVA_FLOAT.byteSize());
    }

    @SuppressWarnings("restricted")
    private static MemorySegment global(LoadedLibrary stub, String name, long bytes) {
        return stub.symbols().find(name).orElseThrow(() -> new IllegalStateException("stub has no " + name))
                .reinterpret(bytes);
    }
}

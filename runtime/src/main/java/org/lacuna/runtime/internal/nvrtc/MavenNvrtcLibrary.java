package org.lacuna.runtime.internal.nvrtc;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import org.lacuna.runtime.LacunaConfig;
import org.lacuna.runtime.LibraryLoadException;

/**
 * NVRTC 12.9 shipped in Maven Central's {@code org.bytedeco:cuda-redist} (classifier linux-x86_64). When that jar
 * is on the class path, its {@code libnvrtc.so.12} and builtins are extracted once into the cache folder and can be
 * loaded by path: NVRTC then compiles for any architecture on a machine with no CUDA install, GPU or driver.
 */
public final class MavenNvrtcLibrary {
    static final String RESOURCE_FOLDER = "org/bytedeco/cuda/linux-x86_64/";
    static final String NVRTC = "libnvrtc.so.12";

    private MavenNvrtcLibrary() {
    }

    /** The extracted library pair, or empty when the cuda-redist jar is not on the class path. */
    public static Optional<Extracted> extract() {
        ClassLoader loader = MavenNvrtcLibrary.class.getClassLoader();
        URL nvrtc = loader.getResource(RESOURCE_FOLDER + NVRTC);
        if (nvrtc == null) {
            return Optional.empty();
        }
        String builtinsName = findBuiltinsName(loader);
        try {
            URLConnection connection = nvrtc.openConnection();
            long size = connection.getContentLengthLong();
            // The folder name changes with the jar's content, so a new cuda-redist never reuses a stale extraction.
            Path folder = LacunaConfig.cacheRoot().resolve("native").resolve("nvrtc-maven-" + Long.toHexString(size));
            Path nvrtcFile = copyOnce(nvrtc, folder.resolve(NVRTC), size);
            Path builtinsFile = null;
            if (builtinsName != null) {
                URL builtins = loader.getResource(RESOURCE_FOLDER + builtinsName);
                builtinsFile = copyOnce(builtins, folder.resolve(builtinsName), builtins.openConnection().getContentLengthLong());
            }
            return Optional.of(new Extracted(nvrtcFile, builtinsFile));
        } catch (IOException e) {
            throw new LibraryLoadException("nvrtc", "cannot extract NVRTC from the cuda-redist jar into "
                    + LacunaConfig.cacheRoot() + ": " + e.getMessage(), e);
        }
    }

    private static String findBuiltinsName(ClassLoader loader) {
        for (int minor = 9; minor >= 0; minor--) {
            String name = "libnvrtc-builtins.so.12." + minor;
            if (loader.getResource(RESOURCE_FOLDER + name) != null) {
                return name;
            }
        }
        return null;
    }

    private static Path copyOnce(URL source, Path target, long expectedSize) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == expectedSize) {
            return target;
        }
        Files.createDirectories(target.getParent());
        Path temporary = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
        try (InputStream in = source.openStream()) {
            Files.copy(in, temporary, StandardCopyOption.REPLACE_EXISTING);
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
        return target;
    }

    /** Paths of the extracted NVRTC and its builtins (null if the jar holds none). */
    public record Extracted(Path nvrtc, Path builtins) {
    }
}

package org.lacuna.runtime.internal.nativelib;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import org.lacuna.runtime.backend.LacunaConfig;
import org.lacuna.runtime.error.LibraryLoadException;
import org.lacuna.runtime.internal.AtomicFiles;

/**
 * Native files that a jar on the class path carries (bytedeco's cuda-redist, openblas, ...), copied once into the
 * cache folder so the dynamic loader can open them by path. The files of one extraction share a folder, so a
 * library's {@code $ORIGIN} run path finds the libraries shipped beside it.
 *
 * @param library        short name for errors and the cache folder, e.g. {@code nvrtc}
 * @param resourceFolder the jar folder holding the files, e.g. {@code org/bytedeco/cuda/linux-x86_64/}
 */
public record BundledFiles(String library, String resourceFolder) {

    /** Whether the jar with {@code file} is on the class path. */
    public boolean contains(String file) {
        return resource(file) != null;
    }

    /**
     * Copies {@code mainFile} and those of {@code companions} the jar holds into one cache folder (skipping files
     * already copied there) and returns that folder, or empty when the jar with {@code mainFile} is not on the class
     * path.
     *
     * @throws LibraryLoadException when the copy fails
     */
    public Optional<Path> extract(String mainFile, List<String> companions) {
        URL main = resource(mainFile);
        if (main == null) {
            return Optional.empty();
        }
        try {
            long size = main.openConnection().getContentLengthLong();
            // The folder name changes with the jar's content, so a new jar never reuses a stale extraction.
            Path folder = LacunaConfig.cacheRoot().resolve("native").resolve(library + "-maven-" + Long.toHexString(size));
            copyOnce(main, folder.resolve(mainFile), size);
            for (String companion : companions) {
                URL url = resource(companion);
                if (url != null) {
                    copyOnce(url, folder.resolve(companion), url.openConnection().getContentLengthLong());
                }
            }
            return Optional.of(folder);
        } catch (IOException e) {
            throw new LibraryLoadException(library, "cannot extract " + mainFile + " from its jar into "
                    + LacunaConfig.cacheRoot() + ": " + e.getMessage(), e);
        }
    }

    private URL resource(String file) {
        return BundledFiles.class.getClassLoader().getResource(resourceFolder + file);
    }

    private static void copyOnce(URL source, Path target, long expectedSize) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == expectedSize) {
            return;
        }
        Files.createDirectories(target.getParent());
        AtomicFiles.replace(target, temporary -> {
            try (InputStream in = source.openStream()) {
                Files.copy(in, temporary, StandardCopyOption.REPLACE_EXISTING);
            }
        });
    }
}

package org.lacuna.runtime.internal.nvrtc;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.lacuna.runtime.internal.nativelib.BundledFiles;

/**
 * NVRTC 12.9 shipped in Maven Central's {@code org.bytedeco:cuda-redist} (classifier linux-x86_64). When that jar
 * is on the class path, its {@code libnvrtc.so.12} and builtins are extracted once into the cache folder and can be
 * loaded by path: NVRTC then compiles for any architecture on a machine with no CUDA install, GPU or driver.
 */
public final class MavenNvrtcLibrary {
    static final String RESOURCE_FOLDER = "org/bytedeco/cuda/linux-x86_64/";
    static final String NVRTC = "libnvrtc.so.12";
    private static final BundledFiles JAR = new BundledFiles("nvrtc", RESOURCE_FOLDER);

    private MavenNvrtcLibrary() {
    }

    /** The extracted library pair, or empty when the cuda-redist jar is not on the class path. */
    public static Optional<Extracted> extract() {
        String builtinsName = findBuiltinsName();
        return JAR.extract(NVRTC, builtinsName == null ? List.of() : List.of(builtinsName))
                .map(folder -> new Extracted(folder.resolve(NVRTC),
                        builtinsName == null ? null : folder.resolve(builtinsName)));
    }

    private static String findBuiltinsName() {
        for (int minor = 9; minor >= 0; minor--) {
            String name = "libnvrtc-builtins.so.12." + minor;
            if (JAR.contains(name)) {
                return name;
            }
        }
        return null;
    }

    /** Paths of the extracted NVRTC and its builtins (null if the jar holds none). */
    public record Extracted(Path nvrtc, Path builtins) {
    }
}

package org.lacuna.runtime.internal.nativelib;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The folders the dynamic loader searches by itself: those listed in {@code /etc/ld.so.conf} (following its
 * {@code include} lines) and the built-in system folders. The driver's {@code libcuda.so.1} is normally only there.
 */
public final class SystemLibraryFolders {
    static final List<Path> BUILT_IN = List.of(
            Path.of("/lib/x86_64-linux-gnu"), Path.of("/usr/lib/x86_64-linux-gnu"),
            Path.of("/lib64"), Path.of("/usr/lib64"), Path.of("/lib"), Path.of("/usr/lib"));
    private static final int MAX_INCLUDE_DEPTH = 4;

    private SystemLibraryFolders() {
    }

    public static List<Path> fromLoaderConfiguration() {
        return read(Path.of("/etc/ld.so.conf"), BUILT_IN);
    }

    /** Folders named in {@code configuration} (missing or unreadable: none), then {@code builtIn}, without repeats. */
    public static List<Path> read(Path configuration, List<Path> builtIn) {
        Set<Path> folders = new LinkedHashSet<>();
        readInto(configuration, folders, 0);
        folders.addAll(builtIn);
        return List.copyOf(folders);
    }

    private static void readInto(Path configuration, Set<Path> folders, int depth) {
        if (depth > MAX_INCLUDE_DEPTH || !Files.isRegularFile(configuration)) {
            return;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(configuration);
        } catch (IOException | SecurityException e) {
            return;
        }
        for (String raw : lines) {
            int hash = raw.indexOf('#');
            String line = (hash >= 0 ? raw.substring(0, hash) : raw).trim();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("include ") || line.startsWith("include\t")) {
                for (Path included : expand(configuration, line.substring("include".length()).trim())) {
                    readInto(included, folders, depth + 1);
                }
            } else if (line.startsWith("/")) {
                folders.add(Path.of(line));
            }
        }
    }

    /** {@code include /etc/ld.so.conf.d/*.conf}: a glob in the last name only, as ld.so.conf files use it. */
    private static List<Path> expand(Path configuration, String pattern) {
        Path path = Path.of(pattern);
        if (!path.isAbsolute()) {
            Path parent = configuration.getParent();
            path = parent == null ? path : parent.resolve(path);
        }
        Path folder = path.getParent();
        String namePattern = String.valueOf(path.getFileName());
        if (folder == null || !Files.isDirectory(folder)) {
            return List.of();
        }
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + namePattern);
        try (Stream<Path> entries = Files.list(folder)) {
            List<Path> matches = new ArrayList<>(entries.filter(p -> matcher.matches(p.getFileName())).sorted().toList());
            return matches;
        } catch (IOException | SecurityException e) {
            return List.of();
        }
    }
}

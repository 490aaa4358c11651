package org.lacuna.runtime.internal.nativelib;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;

/** Reads versions out of shared-library file names and finds a library's companions beside it. */
public final class Sonames {
    private Sonames() {
    }

    /**
     * 12 for {@code libnvrtc.so.12} and {@code libnvrtc.so.12.9.86}. A name without a version (a {@code libx.so}
     * link) is resolved to the file it points at, whose name usually carries one.
     */
    public static OptionalInt majorVersion(Path file) {
        OptionalInt fromName = majorVersion(String.valueOf(file.getFileName()));
        if (fromName.isPresent()) {
            return fromName;
        }
        try {
            return majorVersion(String.valueOf(file.toRealPath().getFileName()));
        } catch (IOException | SecurityException e) {
            return OptionalInt.empty();
        }
    }

    static OptionalInt majorVersion(String fileName) {
        int so = fileName.lastIndexOf(".so.");
        if (so < 0) {
            return OptionalInt.empty();
        }
        String versions = fileName.substring(so + 4);
        int dot = versions.indexOf('.');
        String major = dot < 0 ? versions : versions.substring(0, dot);
        if (major.isEmpty() || !major.chars().allMatch(Character::isDigit) || major.length() > 6) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(Integer.parseInt(major));
    }

    /**
     * The newest file in {@code folder} named {@code prefix} or {@code prefix.<more versions>}, e.g. prefix
     * {@code libnvrtc-builtins.so.12} finds {@code libnvrtc-builtins.so.12.9}.
     */
    public static Optional<Path> newestInFolder(Path folder, String prefix) {
        if (!Files.isDirectory(folder)) {
            return Optional.empty();
        }
        try (Stream<Path> entries = Files.list(folder)) {
            return entries
                    .filter(p -> {
                        String name = String.valueOf(p.getFileName());
                        return name.equals(prefix) || name.startsWith(prefix + ".");
                    })
                    .filter(Files::isRegularFile)
                    .max(Comparator.comparing(p -> String.valueOf(p.getFileName()), Sonames::compareVersioned));
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
    }

    /** {@code stem} with the major version of {@code library}'s soname ("libcublasLt.so.13"); empty if it has none. */
    public static Optional<String> sameMajor(Path library, String stem) {
        OptionalInt major = majorVersion(library);
        return major.isPresent() ? Optional.of(stem + ".so." + major.getAsInt()) : Optional.empty();
    }

    /**
     * Where a dependency of {@code library} lives: beside it, or, for pip's NVIDIA wheels (each library in its own
     * {@code site-packages/nvidia/<package>/lib}), in a sibling wheel's lib folder.
     */
    public static Optional<Path> findDependency(Path library, String dependencySoname) {
        Path folder = library.toAbsolutePath().getParent();
        if (folder == null) {
            return Optional.empty();
        }
        Path beside = folder.resolve(dependencySoname);
        if (Files.isRegularFile(beside)) {
            return Optional.of(beside);
        }
        Path wheel = folder.getParent();
        Path nvidia = wheel == null ? null : wheel.getParent();
        if (!"lib".equals(String.valueOf(folder.getFileName())) || nvidia == null
                || !"nvidia".equals(String.valueOf(nvidia.getFileName()))) {
            return Optional.empty();
        }
        for (Path otherWheelLib : PythonSitePackages.nvidiaLibFolders(nvidia.getParent())) {
            Path candidate = otherWheelLib.resolve(dependencySoname);
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Orders {@code x.so.12.9} before {@code x.so.12.10}: numeric runs compare as numbers. */
    static int compareVersioned(String a, String b) {
        List<String> left = List.of(a.split("(?<=\\D)(?=\\d)|(?<=\\d)(?=\\D)"));
        List<String> right = List.of(b.split("(?<=\\D)(?=\\d)|(?<=\\d)(?=\\D)"));
        for (int i = 0; i < Math.min(left.size(), right.size()); i++) {
            String x = left.get(i);
            String y = right.get(i);
            int order = isNumber(x) && isNumber(y) ? compareNumbers(x, y) : x.compareTo(y);
            if (order != 0) {
                return order;
            }
        }
        return Integer.compare(left.size(), right.size());
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }

    private static int compareNumbers(String x, String y) {
        String a = x.replaceFirst("^0+(?=.)", "");
        String b = y.replaceFirst("^0+(?=.)", "");
        return a.length() != b.length() ? Integer.compare(a.length(), b.length()) : a.compareTo(b);
    }
}

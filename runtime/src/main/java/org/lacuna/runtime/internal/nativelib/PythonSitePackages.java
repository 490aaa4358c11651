package org.lacuna.runtime.internal.nativelib;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds Python site-packages folders and, in them, the {@code nvidia/<package>/lib} folders where pip's NVIDIA
 * wheels put their libraries ({@code nvidia/cuda_nvrtc/lib}, {@code nvidia/cublas/lib}, {@code nvidia/cu13/lib}...).
 */
public final class PythonSitePackages {
    private PythonSitePackages() {
    }

    /**
     * Existing site-packages folders in search order: the active virtualenv, the conda prefix, PYTHONPATH entries,
     * the user's {@code ~/.local}, then system Pythons' site- and dist-packages.
     */
    public static List<Path> find(SearchEnvironment environment) {
        Set<Path> found = new LinkedHashSet<>();
        environment.variable("VIRTUAL_ENV").ifPresent(v -> found.addAll(underPythons(Path.of(v, "lib"), "site-packages")));
        environment.variable("CONDA_PREFIX").ifPresent(c -> found.addAll(underPythons(Path.of(c, "lib"), "site-packages")));
        environment.variable("PYTHONPATH").ifPresent(pythonPath -> {
            for (String entry : pythonPath.split(":")) {
                if (!entry.isBlank() && Files.isDirectory(Path.of(entry))) {
                    found.add(Path.of(entry).toAbsolutePath().normalize());
                }
            }
        });
        found.addAll(underPythons(environment.userHome().resolve(".local/lib"), "site-packages"));
        for (Path root : environment.pythonInstallRoots()) {
            found.addAll(underPythons(root, "site-packages", "dist-packages"));
        }
        return List.copyOf(found);
    }

    /** {@code sitePackages/nvidia/<any>/lib} folders that exist, sorted by package name. */
    public static List<Path> nvidiaLibFolders(Path sitePackages) {
        Path nvidia = sitePackages.resolve("nvidia");
        if (!Files.isDirectory(nvidia)) {
            return List.of();
        }
        try (Stream<Path> packages = Files.list(nvidia)) {
            return packages.map(p -> p.resolve("lib")).filter(Files::isDirectory).sorted().toList();
        } catch (IOException | SecurityException e) {
            return List.of();
        }
    }

    /** {@code root/python3*}/{@code leaf} for each leaf, newest Python first. */
    private static List<Path> underPythons(Path root, String... leaves) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Path> pythons;
        try (Stream<Path> entries = Files.list(root)) {
            pythons = new ArrayList<>(entries
                    .filter(p -> String.valueOf(p.getFileName()).startsWith("python3"))
                    .filter(Files::isDirectory)
                    .toList());
        } catch (IOException | SecurityException e) {
            return List.of();
        }
        pythons.sort((a, b) -> Sonames.compareVersioned(String.valueOf(b.getFileName()), String.valueOf(a.getFileName())));
        List<Path> result = new ArrayList<>();
        for (Path python : pythons) {
            for (String leaf : leaves) {
                Path candidate = python.resolve(leaf);
                if (Files.isDirectory(candidate)) {
                    result.add(candidate.toAbsolutePath().normalize());
                }
            }
        }
        return result;
    }
}

package org.lacuna.runtime.internal.nativelib;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Looks for a native library in a fixed order of places and hands each file found to a loader until one loads:
 * <ol>
 * <li>the explicit path {@code lacuna.<lib>.path} / {@code LACUNA_<LIB>_PATH} (a file, or a folder to look in);</li>
 * <li>{@code $CUDA_HOME/lib64}, {@code $CUDA_HOME/lib}, then the same under {@code $CUDA_PATH};</li>
 * <li>{@code /usr/local/cuda/lib64};</li>
 * <li>each {@code LD_LIBRARY_PATH} entry;</li>
 * <li>the {@code nvidia/*}{@code /lib} folders of Python site-packages (see {@link PythonSitePackages});</li>
 * <li>the dynamic loader's own folders (see {@link SystemLibraryFolders}).</li>
 * </ol>
 * An earlier place always wins. Within one place the sonames are tried in the spec's order of preference (for a
 * site-packages folder, across all its wheels: {@code .so.12} of one wheel before {@code .so.13} of another).
 * Every place looked at is recorded with why it did not serve, so a failure can say exactly what was tried.
 */
public final class NativeLibrarySearch {
    private final SearchEnvironment environment;

    public NativeLibrarySearch(SearchEnvironment environment) {
        this.environment = environment;
    }

    /** Finds the first candidate file without loading it. */
    public SearchResult<Path> locate(LibrarySpec spec) {
        return search(spec, LibraryCandidate::file);
    }

    /** Tries the candidates in order; the first that {@code loader} accepts serves. */
    public <T> SearchResult<T> search(LibrarySpec spec, CandidateLoader<T> loader) {
        return new Run<>(spec, loader).execute();
    }

    /** One search: the attempts so far and the folders already looked in (a folder reached twice is tried once). */
    private final class Run<T> {
        private final LibrarySpec spec;
        private final CandidateLoader<T> loader;
        private final List<SearchAttempt> attempts = new ArrayList<>();
        private final Set<Path> visitedFolders = new HashSet<>();

        Run(LibrarySpec spec, CandidateLoader<T> loader) {
            this.spec = spec;
            this.loader = loader;
        }

        SearchResult<T> execute() {
            List<Supplier<Optional<SearchResult<T>>>> steps = List.of(this::explicitPath, this::cudaHome,
                    this::defaultCuda, this::ldLibraryPath, this::sitePackages, this::systemFolders);
            for (Supplier<Optional<SearchResult<T>>> step : steps) {
                Optional<SearchResult<T>> found = step.get();
                if (found.isPresent()) {
                    return found.get();
                }
            }
            return SearchResult.notFound(spec, attempts);
        }

        private Optional<SearchResult<T>> explicitPath() {
            Optional<String> setting = environment.setting(spec.pathProperty(), spec.pathEnvironmentVariable());
            if (setting.isEmpty()) {
                attempts.add(SearchAttempt.notConfigured(SearchStep.EXPLICIT_PATH,
                        spec.pathProperty() + " / " + spec.pathEnvironmentVariable() + " not set"));
                return Optional.empty();
            }
            Path path = Path.of(setting.get()).toAbsolutePath().normalize();
            if (Files.isRegularFile(path)) {
                return tryCandidates(List.of(new LibraryCandidate(path, SearchStep.EXPLICIT_PATH)));
            }
            if (Files.isDirectory(path)) {
                return tryFolders(SearchStep.EXPLICIT_PATH, List.of(path));
            }
            attempts.add(SearchAttempt.missing(SearchStep.EXPLICIT_PATH, path, "no such file or folder"));
            return Optional.empty();
        }

        private Optional<SearchResult<T>> cudaHome() {
            List<String> homes = new ArrayList<>();
            environment.variable("CUDA_HOME").ifPresent(homes::add);
            environment.variable("CUDA_PATH").ifPresent(homes::add);
            if (homes.isEmpty()) {
                attempts.add(SearchAttempt.notConfigured(SearchStep.CUDA_HOME, "CUDA_HOME and CUDA_PATH not set"));
                return Optional.empty();
            }
            for (String home : homes) {
                for (String lib : List.of("lib64", "lib")) {
                    Optional<SearchResult<T>> found = tryFolders(SearchStep.CUDA_HOME, List.of(Path.of(home, lib)));
                    if (found.isPresent()) {
                        return found;
                    }
                }
            }
            return Optional.empty();
        }

        private Optional<SearchResult<T>> defaultCuda() {
            return tryFolders(SearchStep.DEFAULT_CUDA, List.of(environment.defaultCudaHome().resolve("lib64")));
        }

        private Optional<SearchResult<T>> ldLibraryPath() {
            Optional<String> value = environment.variable("LD_LIBRARY_PATH");
            if (value.isEmpty()) {
                attempts.add(SearchAttempt.notConfigured(SearchStep.LD_LIBRARY_PATH, "LD_LIBRARY_PATH not set"));
                return Optional.empty();
            }
            for (String entry : value.get().split(":")) {
                if (entry.isBlank()) {
                    continue;
                }
                Optional<SearchResult<T>> found = tryFolders(SearchStep.LD_LIBRARY_PATH, List.of(Path.of(entry)));
                if (found.isPresent()) {
                    return found;
                }
            }
            return Optional.empty();
        }

        private Optional<SearchResult<T>> sitePackages() {
            List<Path> sites = PythonSitePackages.find(environment);
            if (sites.isEmpty()) {
                attempts.add(SearchAttempt.notConfigured(SearchStep.PYTHON_SITE_PACKAGES,
                        "no site-packages under VIRTUAL_ENV, CONDA_PREFIX, PYTHONPATH, ~/.local/lib/python3*, "
                                + "or a system python3*"));
                return Optional.empty();
            }
            for (Path site : sites) {
                List<Path> wheelLibs = PythonSitePackages.nvidiaLibFolders(site);
                if (wheelLibs.isEmpty()) {
                    attempts.add(SearchAttempt.missing(SearchStep.PYTHON_SITE_PACKAGES, site,
                            "no nvidia/*/lib folder"));
                    continue;
                }
                Optional<SearchResult<T>> found = tryFolders(SearchStep.PYTHON_SITE_PACKAGES, wheelLibs);
                if (found.isPresent()) {
                    return found;
                }
            }
            return Optional.empty();
        }

        private Optional<SearchResult<T>> systemFolders() {
            return tryFolders(SearchStep.SYSTEM_FOLDERS, environment.systemLibraryFolders());
        }

        /** Folders of one place: sonames in preference order across all of them, then the files found in turn. */
        private Optional<SearchResult<T>> tryFolders(SearchStep step, List<Path> folders) {
            List<Path> fresh = new ArrayList<>();
            for (Path folder : folders) {
                if (visitedFolders.add(folder.toAbsolutePath().normalize())) {
                    fresh.add(folder.toAbsolutePath().normalize());
                }
            }
            List<LibraryCandidate> candidates = new ArrayList<>();
            for (String soname : spec.sonames()) {
                for (Path folder : fresh) {
                    Path file = folder.resolve(soname);
                    if (Files.isRegularFile(file)) {
                        candidates.add(new LibraryCandidate(file, step));
                    }
                }
            }
            for (Path folder : fresh) {
                if (candidates.stream().noneMatch(c -> c.folder().equals(folder))) {
                    attempts.add(SearchAttempt.missing(step, folder, Files.isDirectory(folder)
                            ? "none of " + spec.sonameList() : "no such folder"));
                }
            }
            return tryCandidates(candidates);
        }

        private Optional<SearchResult<T>> tryCandidates(List<LibraryCandidate> candidates) {
            for (LibraryCandidate candidate : candidates) {
                try {
                    T value = loader.load(candidate);
                    attempts.add(SearchAttempt.selected(candidate.step(), candidate.file(), ""));
                    return Optional.of(SearchResult.found(spec, attempts, value, candidate));
                } catch (Exception | LinkageError e) {
                    attempts.add(SearchAttempt.rejected(candidate.step(), candidate.file(), Failures.describe(e)));
                }
            }
            return Optional.empty();
        }
    }
}

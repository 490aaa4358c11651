package org.lacuna.runtime.internal.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LibraryLoadException;
import org.lacuna.runtime.internal.nativelib.SearchAttempt.Outcome;

class NativeLibrarySearchTest {
    private static final LibrarySpec NVRTC = LibrarySpec.NVRTC;

    @TempDir
    Path temp;
    SearchFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new SearchFixture(temp);
    }

    private SearchResult<Path> locate() {
        return new NativeLibrarySearch(fixture.environment()).locate(NVRTC);
    }

    /** One library placement per step, in the documented order; each also sets what its step needs. */
    private List<Map.Entry<SearchStep, Consumer<SearchFixture>>> placementsInOrder() {
        List<Map.Entry<SearchStep, Consumer<SearchFixture>>> placements = new ArrayList<>();
        placements.add(Map.entry(SearchStep.EXPLICIT_PATH, f -> {
            Path lib = SearchFixture.emptyFile(f.root().resolve("explicit/libnvrtc.so.12"));
            f.property("lacuna.nvrtc.path", lib.toString());
        }));
        placements.add(Map.entry(SearchStep.CUDA_HOME, f -> {
            SearchFixture.emptyFile(f.root().resolve("cuda-home/lib64/libnvrtc.so.12"));
            f.env("CUDA_HOME", f.root().resolve("cuda-home"));
        }));
        placements.add(Map.entry(SearchStep.DEFAULT_CUDA,
                f -> SearchFixture.emptyFile(f.defaultCuda().resolve("lib64/libnvrtc.so.12"))));
        placements.add(Map.entry(SearchStep.LD_LIBRARY_PATH, f -> {
            SearchFixture.emptyFile(f.root().resolve("ld2/libnvrtc.so.12"));
            f.env("LD_LIBRARY_PATH", f.root().resolve("ld1") + "::" + f.root().resolve("ld2"));
        }));
        placements.add(Map.entry(SearchStep.PYTHON_SITE_PACKAGES, f -> {
            Path venv = f.root().resolve("venv");
            SearchFixture.emptyFile(venv.resolve("lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12"));
            f.env("VIRTUAL_ENV", venv);
        }));
        placements.add(Map.entry(SearchStep.SYSTEM_FOLDERS,
                f -> SearchFixture.emptyFile(f.systemFolder().resolve("libnvrtc.so.12"))));
        return placements;
    }

    @Test
    void eachStepFindsTheLibraryWhenItIsTheOnlyPlace() throws IOException {
        for (Map.Entry<SearchStep, Consumer<SearchFixture>> placement : placementsInOrder()) {
            Path root = Files.createTempDirectory(temp, placement.getKey().name());
            fixture = new SearchFixture(root);
            placement.getValue().accept(fixture);

            SearchResult<Path> result = locate();

            assertTrue(result.isFound(), () -> placement.getKey() + ": " + result.failureMessage());
            assertEquals(placement.getKey(), result.selected().orElseThrow().step());
            assertEquals("libnvrtc.so.12", result.value().orElseThrow().getFileName().toString());
            assertTrue(result.value().orElseThrow().startsWith(root), "found outside the fixture: " + result.value());
        }
    }

    @Test
    void anEarlierStepAlwaysWins() {
        List<Map.Entry<SearchStep, Consumer<SearchFixture>>> placements = placementsInOrder();
        placements.forEach(p -> p.getValue().accept(fixture));
        // Remove the winner's setting or file one step at a time: the next step in the fixed order must take over.
        for (int i = 0; i < placements.size(); i++) {
            SearchResult<Path> result = locate();
            assertEquals(placements.get(i).getKey(), result.selected().orElseThrow().step(), "round " + i);
            Path winner = result.value().orElseThrow();
            assertTrue(winner.toFile().delete(), "could not remove " + winner);
        }
        assertFalse(locate().isFound());
    }

    @Test
    void cudaHomeIsTriedBeforeCudaPathAndLib64BeforeLib() {
        Path home = fixture.root().resolve("home-cuda");
        Path path = fixture.root().resolve("path-cuda");
        SearchFixture.emptyFile(home.resolve("lib/libnvrtc.so.12"));
        SearchFixture.emptyFile(path.resolve("lib64/libnvrtc.so.12"));
        fixture.env("CUDA_HOME", home).env("CUDA_PATH", path);

        assertEquals(home.resolve("lib/libnvrtc.so.12"), locate().value().orElseThrow());

        SearchFixture.emptyFile(home.resolve("lib64/libnvrtc.so.12"));
        assertEquals(home.resolve("lib64/libnvrtc.so.12"), locate().value().orElseThrow());
    }

    @Test
    void aMissingPlaceIsRecordedAndSkipped() {
        fixture.env("CUDA_HOME", fixture.root().resolve("no-such-cuda"));
        SearchFixture.emptyFile(fixture.systemFolder().resolve("libnvrtc.so.12"));

        SearchResult<Path> result = locate();

        assertEquals(SearchStep.SYSTEM_FOLDERS, result.selected().orElseThrow().step());
        SearchAttempt cudaHome = result.attempts().stream()
                .filter(a -> a.step() == SearchStep.CUDA_HOME).findFirst().orElseThrow();
        assertEquals(Outcome.MISSING, cudaHome.outcome());
        assertEquals(fixture.root().resolve("no-such-cuda/lib64"), cudaHome.path());
        assertEquals("no such folder", cudaHome.detail());
    }

    @Test
    void anEmptySearchThrowsListingEveryPlaceTried() {
        fixture.env("CUDA_HOME", fixture.root().resolve("cuda-a"))
                .env("LD_LIBRARY_PATH", fixture.root().resolve("ld-a") + ":" + fixture.root().resolve("ld-b"));
        Path site = fixture.pythonRoot().resolve("python3.11/dist-packages");
        SearchFixture.emptyFile(site.resolve("nvidia/cublas/lib/libcublas.so.12"));

        SearchResult<Path> result = locate();
        LibraryLoadException failure = assertThrows(LibraryLoadException.class, result::orElseThrow);

        assertEquals(ErrorCode.LIBRARY_LOAD, failure.code());
        assertEquals("load nvrtc", failure.call());
        List<String> expectedPlaces = List.of(
                "lacuna.nvrtc.path / LACUNA_NVRTC_PATH not set",
                fixture.root().resolve("cuda-a/lib64").toString(),
                fixture.root().resolve("cuda-a/lib").toString(),
                fixture.defaultCuda().resolve("lib64").toString(),
                fixture.root().resolve("ld-a").toString(),
                fixture.root().resolve("ld-b").toString(),
                site.resolve("nvidia/cublas/lib").toString(),
                fixture.systemFolder().toString());
        int previous = -1;
        for (String place : expectedPlaces) {
            // A path is matched with the ": " after it, so ".../lib" is not found inside ".../lib64".
            int at = failure.getMessage().indexOf(place.startsWith("/") ? place + ": " : place);
            assertTrue(at > previous, () -> "missing or out of order: " + place + " in\n" + failure.getMessage());
            previous = at;
        }
        assertTrue(failure.getMessage().contains("libnvrtc.so.12, libnvrtc.so.13"));
        assertTrue(failure.getMessage().contains("LACUNA_NVRTC_PATH"));
        assertEquals(List.of(SearchStep.EXPLICIT_PATH, SearchStep.CUDA_HOME, SearchStep.CUDA_HOME,
                        SearchStep.DEFAULT_CUDA, SearchStep.LD_LIBRARY_PATH, SearchStep.LD_LIBRARY_PATH,
                        SearchStep.PYTHON_SITE_PACKAGES, SearchStep.SYSTEM_FOLDERS),
                result.attempts().stream().map(SearchAttempt::step).toList());
        assertTrue(result.attempts().stream().noneMatch(a -> a.outcome() == Outcome.SELECTED));
    }

    @Test
    void explicitFileOverridesEverythingAndPropertyBeatsEnvironment() {
        SearchFixture.emptyFile(fixture.defaultCuda().resolve("lib64/libnvrtc.so.12"));
        Path fromEnv = SearchFixture.emptyFile(fixture.root().resolve("env/libnvrtc.so.13"));
        Path fromProperty = SearchFixture.emptyFile(fixture.root().resolve("prop/custom-nvrtc.so"));

        fixture.env("LACUNA_NVRTC_PATH", fromEnv);
        assertEquals(fromEnv, locate().value().orElseThrow());

        fixture.property("lacuna.nvrtc.path", fromProperty.toString());
        SearchResult<Path> result = locate();
        assertEquals(fromProperty, result.value().orElseThrow());
        assertEquals(SearchStep.EXPLICIT_PATH, result.selected().orElseThrow().step());
    }

    @Test
    void explicitFolderIsSearchedForTheSonames() {
        Path folder = fixture.root().resolve("mine");
        SearchFixture.emptyFile(folder.resolve("libnvrtc.so.13"));
        fixture.env("LACUNA_NVRTC_PATH", folder);

        assertEquals(folder.resolve("libnvrtc.so.13"), locate().value().orElseThrow());
    }

    @Test
    void aMissingExplicitPathIsRecordedAndTheSearchGoesOn() {
        Path nowhere = fixture.root().resolve("nowhere/libnvrtc.so.12");
        fixture.property("lacuna.nvrtc.path", nowhere.toString());
        SearchFixture.emptyFile(fixture.defaultCuda().resolve("lib64/libnvrtc.so.12"));

        SearchResult<Path> result = locate();

        assertEquals(SearchStep.DEFAULT_CUDA, result.selected().orElseThrow().step());
        SearchAttempt explicit = result.attempts().getFirst();
        assertEquals(Outcome.MISSING, explicit.outcome());
        assertEquals(nowhere, explicit.path());
    }

    @Test
    void withinOnePlaceTheSonamesFollowThePreferenceOrder() {
        Path lib64 = fixture.defaultCuda().resolve("lib64");
        SearchFixture.emptyFile(lib64.resolve("libnvrtc.so.13"));
        assertEquals(lib64.resolve("libnvrtc.so.13"), locate().value().orElseThrow());

        SearchFixture.emptyFile(lib64.resolve("libnvrtc.so.12"));
        assertEquals(lib64.resolve("libnvrtc.so.12"), locate().value().orElseThrow());
    }

    @Test
    void anEarlierPlaceWinsOverAPreferredSonameLater() {
        Path cudaHome = fixture.root().resolve("cuda13");
        SearchFixture.emptyFile(cudaHome.resolve("lib64/libnvrtc.so.13"));
        fixture.env("CUDA_HOME", cudaHome);
        SearchFixture.emptyFile(fixture.systemFolder().resolve("libnvrtc.so.12"));

        assertEquals(cudaHome.resolve("lib64/libnvrtc.so.13"), locate().value().orElseThrow());
    }

    @Test
    void sitePackagesPreferTheSonameOrderAcrossWheels() {
        Path site = fixture.root().resolve("conda/lib/python3.11/site-packages");
        SearchFixture.emptyFile(site.resolve("nvidia/cu13/lib/libnvrtc.so.13"));
        SearchFixture.emptyFile(site.resolve("nvidia/cuda_nvrtc/lib/libnvrtc.so.12"));
        fixture.env("CONDA_PREFIX", fixture.root().resolve("conda"));

        SearchResult<Path> result = locate();

        assertEquals(site.resolve("nvidia/cuda_nvrtc/lib/libnvrtc.so.12"), result.value().orElseThrow());
    }

    @Test
    void everyKindOfSitePackagesIsSearchedInOrder() throws IOException {
        Path venv = fixture.root().resolve("venv/lib/python3.12/site-packages");
        Path conda = fixture.root().resolve("conda/lib/python3.10/site-packages");
        Path pythonPath = fixture.root().resolve("pp");
        Path userSite = fixture.home().resolve(".local/lib/python3.11/site-packages");
        Path systemDist = fixture.pythonRoot().resolve("python3/dist-packages");
        List<Path> sites = List.of(venv, conda, pythonPath, userSite, systemDist);
        for (Path site : sites) {
            SearchFixture.emptyFile(site.resolve("nvidia/cu13/lib/libnvrtc.so.13"));
        }
        fixture.env("VIRTUAL_ENV", fixture.root().resolve("venv"))
                .env("CONDA_PREFIX", fixture.root().resolve("conda"))
                .env("PYTHONPATH", pythonPath.toString());
        for (Path site : sites) {
            SearchResult<Path> result = locate();
            assertEquals(site.resolve("nvidia/cu13/lib/libnvrtc.so.13"), result.value().orElseThrow());
            assertEquals(SearchStep.PYTHON_SITE_PACKAGES, result.selected().orElseThrow().step());
            Files.delete(result.value().orElseThrow());
        }
    }

    @Test
    void aFolderReachedByTwoStepsIsTriedOnce() {
        fixture.env("CUDA_HOME", fixture.defaultCuda());
        fixture.env("LD_LIBRARY_PATH", fixture.defaultCuda().resolve("lib64").toString());

        SearchResult<Path> result = locate();

        long lib64Attempts = result.attempts().stream()
                .filter(a -> fixture.defaultCuda().resolve("lib64").equals(a.path())).count();
        assertEquals(1, lib64Attempts);
    }

    @Test
    void aRejectedCandidateKeepsItsErrorAndTheSearchGoesOn() {
        Path first = SearchFixture.emptyFile(fixture.defaultCuda().resolve("lib64/libnvrtc.so.12"));
        Path second = SearchFixture.emptyFile(fixture.systemFolder().resolve("libnvrtc.so.12"));

        SearchResult<String> result = new NativeLibrarySearch(fixture.environment()).search(NVRTC, candidate -> {
            if (candidate.file().equals(first)) {
                throw new UnsatisfiedLinkError("libnvrtc-builtins.so.12.9: cannot open shared object file");
            }
            return "bound " + candidate.file().getFileName();
        });

        assertEquals("bound libnvrtc.so.12", result.value().orElseThrow());
        assertEquals(second, result.selected().orElseThrow().file());
        SearchAttempt rejected = result.attempts().stream()
                .filter(a -> a.outcome() == Outcome.REJECTED).findFirst().orElseThrow();
        assertEquals(first, rejected.path());
        assertEquals("libnvrtc-builtins.so.12.9: cannot open shared object file", rejected.detail());
        assertEquals(Outcome.SELECTED, result.attempts().getLast().outcome());
    }

    @Test
    void theDynamicLoadersOwnErrorIsKept() {
        Path broken = SearchFixture.notAnElfFile(fixture.defaultCuda().resolve("lib64/libnvrtc.so.12"));

        SearchResult<LoadedLibrary> result = new NativeLibrarySearch(fixture.environment())
                .search(NVRTC, candidate -> NativeLoader.load("nvrtc", candidate.file()));

        assertFalse(result.isFound());
        SearchAttempt rejected = result.attempts().stream()
                .filter(a -> a.outcome() == Outcome.REJECTED).findFirst().orElseThrow();
        assertEquals(broken, rejected.path());
        assertTrue(rejected.detail().contains("invalid ELF header"), rejected.detail());
        LibraryLoadException failure = assertThrows(LibraryLoadException.class, result::orElseThrow);
        assertTrue(failure.getMessage().contains(broken + ": rejected"), failure.getMessage());
        assertTrue(failure.getMessage().contains("invalid ELF header"), failure.getMessage());
    }

    @Test
    void unsetStepsAreReportedAsSkipped() {
        SearchResult<Path> result = locate();

        List<String> skipped = result.attempts().stream()
                .filter(a -> a.outcome() == Outcome.NOT_CONFIGURED).map(SearchAttempt::detail).toList();
        assertEquals(4, skipped.size(), skipped.toString());
        assertTrue(skipped.get(0).contains("LACUNA_NVRTC_PATH"));
        assertTrue(skipped.get(1).contains("CUDA_HOME and CUDA_PATH not set"));
        assertTrue(skipped.get(2).contains("LD_LIBRARY_PATH not set"));
        assertTrue(skipped.get(3).contains("no site-packages"));
    }
}

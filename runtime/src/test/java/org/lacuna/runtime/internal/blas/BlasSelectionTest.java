package org.lacuna.runtime.internal.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.error.LibraryLoadException;
import org.lacuna.runtime.internal.nativelib.NativeLibraryReport;
import org.lacuna.runtime.internal.nativelib.SearchAttempt.Outcome;
import org.lacuna.runtime.internal.nativelib.SearchAttempt;
import org.lacuna.runtime.internal.nativelib.SearchFixture;
import org.lacuna.runtime.internal.nativelib.SearchResult;
import org.lacuna.runtime.internal.nativelib.SearchStep;

/** cuBLAS selection on machines without cuBLAS or a GPU: a clear "not found" with every place, never a crash. */
class BlasSelectionTest {
    @TempDir
    Path temp;

    @Test
    void withNoCublasAnywhereTheFailureListsEveryPlace() {
        SearchFixture fixture = new SearchFixture(temp).env("LD_LIBRARY_PATH", temp.resolve("ld").toString());

        SearchResult<BlasLibrary> result = BlasBindings.select(fixture.environment());

        assertFalse(result.isFound());
        LibraryLoadException failure = assertThrows(LibraryLoadException.class, result::orElseThrow);
        assertEquals("load cublas", failure.call());
        String message = failure.getMessage();
        assertTrue(message.contains("no usable cublas library (libcublas.so.12, libcublas.so.13)"), message);
        for (SearchStep step : new SearchStep[] {SearchStep.EXPLICIT_PATH, SearchStep.CUDA_HOME,
                SearchStep.DEFAULT_CUDA, SearchStep.LD_LIBRARY_PATH, SearchStep.PYTHON_SITE_PACKAGES,
                SearchStep.SYSTEM_FOLDERS}) {
            assertTrue(message.contains("\n  - " + step.label() + ": "), () -> step + " missing from\n" + message);
        }
        assertTrue(message.contains(temp.resolve("ld") + ": missing (no such folder)"), message);
        assertTrue(message.contains("LACUNA_CUBLAS_PATH"), message);
    }

    @Test
    void aBrokenSo12IsRejectedWithTheLoadersErrorBeforeJcudaIsTouched() {
        SearchFixture fixture = new SearchFixture(temp);
        Path broken = SearchFixture.notAnElfFile(fixture.defaultCuda().resolve("lib64/libcublas.so.12"));

        SearchResult<BlasLibrary> result = BlasBindings.select(fixture.environment());

        SearchAttempt rejected = result.attempts().stream()
                .filter(a -> broken.equals(a.path())).findFirst().orElseThrow();
        assertEquals(Outcome.REJECTED, rejected.outcome());
        assertTrue(rejected.detail().contains("invalid ELF header"), rejected.detail());
    }

    @Test
    void aLibraryWithoutCublasSymbolsIsRejectedNamingTheSymbol() {
        Optional<Path> libm = SearchFixture.someSystemLibrary();
        assumeTrue(libm.isPresent(), "no libm.so.6 in the usual folders");
        SearchFixture fixture = new SearchFixture(temp);
        Path impostor = SearchFixture.link(fixture.systemFolder().resolve("libcublas.so.13"), libm.get());

        SearchResult<BlasLibrary> result = BlasBindings.select(fixture.environment());

        assertFalse(result.isFound());
        SearchAttempt rejected = result.attempts().getLast();
        assertEquals(impostor, rejected.path());
        assertTrue(rejected.detail().contains("has no symbol cublasCreate_v2"), rejected.detail());
    }

    @Test
    void theJvmWideReportNeverThrowsAndAccountsForEveryStep() {
        NativeLibraryReport report = BlasBindings.report();

        assertEquals("cublas", report.library());
        assertTrue(report.render().startsWith("cublas: "), report.render());
        assertEquals(SearchStep.EXPLICIT_PATH, report.attempts().getFirst().step());
        boolean selected = report.attempts().stream().anyMatch(a -> a.outcome() == Outcome.SELECTED);
        assertEquals(report.available(), selected, report.render());
        if (!report.available()) {
            assertTrue(report.render().startsWith("cublas: not available"), report.render());
            assertTrue(report.attempts().stream().anyMatch(a -> a.step() == SearchStep.SYSTEM_FOLDERS),
                    report.render());
            assertThrows(LibraryLoadException.class, BlasBindings::open);
        }
    }
}

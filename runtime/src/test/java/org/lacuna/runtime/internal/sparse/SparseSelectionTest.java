package org.lacuna.runtime.internal.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.error.LibraryLoadException;
import org.lacuna.runtime.internal.nativelib.NativeLibraryReport;
import org.lacuna.runtime.internal.nativelib.SearchAttempt.Outcome;
import org.lacuna.runtime.internal.nativelib.SearchAttempt;
import org.lacuna.runtime.internal.nativelib.SearchFixture;
import org.lacuna.runtime.internal.nativelib.SearchResult;
import org.lacuna.runtime.internal.nativelib.SearchStep;

/** cuSPARSE selection on machines without cuSPARSE or a GPU: a clear "not found" with every place, never a crash. */
class SparseSelectionTest {
    @TempDir
    Path temp;

    @Test
    void withNoCusparseAnywhereTheFailureListsEveryPlace() {
        SearchFixture fixture = new SearchFixture(temp).env("CUDA_PATH", temp.resolve("cuda-path").toString());

        SearchResult<SparseLibrary> result = SparseBindings.select(fixture.environment());

        LibraryLoadException failure = assertThrows(LibraryLoadException.class, result::orElseThrow);
        String message = failure.getMessage();
        assertEquals("load cusparse", failure.call());
        assertTrue(message.contains("no usable cusparse library (libcusparse.so.12, libcusparse.so.13)"), message);
        assertTrue(message.contains(temp.resolve("cuda-path/lib64") + ": missing (no such folder)"), message);
        assertTrue(message.contains(temp.resolve("cuda-path/lib") + ": missing (no such folder)"), message);
        assertTrue(message.contains("LACUNA_CUSPARSE_PATH"), message);
        assertEquals(7, result.attempts().size(), message);
    }

    @Test
    void aBrokenExplicitFileIsRejectedWithTheLoadersError() {
        SearchFixture fixture = new SearchFixture(temp);
        Path broken = SearchFixture.notAnElfFile(temp.resolve("mine/libcusparse.so.13"));
        fixture.property("lacuna.cusparse.path", broken.toString());

        SearchResult<SparseLibrary> result = SparseBindings.select(fixture.environment());

        assertFalse(result.isFound());
        SearchAttempt first = result.attempts().getFirst();
        assertEquals(SearchStep.EXPLICIT_PATH, first.step());
        assertEquals(Outcome.REJECTED, first.outcome());
        assertTrue(first.detail().contains("invalid ELF header"), first.detail());
    }

    @Test
    void theJvmWideReportNeverThrowsAndAccountsForEveryStep() {
        NativeLibraryReport report = SparseBindings.report();

        assertEquals("cusparse", report.library());
        assertEquals(SearchStep.EXPLICIT_PATH, report.attempts().getFirst().step());
        boolean selected = report.attempts().stream().anyMatch(a -> a.outcome() == Outcome.SELECTED);
        assertEquals(report.available(), selected, report.render());
        if (!report.available()) {
            assertTrue(report.render().startsWith("cusparse: not available"), report.render());
            assertThrows(LibraryLoadException.class, SparseBindings::open);
        }
    }
}

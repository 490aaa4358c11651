package org.lacuna.runtime.internal.nvrtc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.error.LibraryLoadException;
import org.lacuna.runtime.internal.nativelib.NativeLibraryReport;
import org.lacuna.runtime.internal.nativelib.SearchAttempt.Outcome;
import org.lacuna.runtime.internal.nativelib.SearchAttempt;
import org.lacuna.runtime.internal.nativelib.SearchFixture;
import org.lacuna.runtime.internal.nativelib.SearchResult;
import org.lacuna.runtime.internal.nativelib.SearchStep;
import org.lacuna.runtime.internal.nvrtc.NvrtcBinding.NvrtcResult;

class NvrtcSelectorTest {
    private static final List<String> SM80 = List.of("--gpu-architecture=sm_80");

    @TempDir
    Path temp;
    SearchFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new SearchFixture(temp);
    }

    private SearchResult<NvrtcBinding> select(boolean withBundledNvrtc) {
        return new NvrtcSelector(fixture.environment(),
                withBundledNvrtc ? () -> Optional.of(TestKernels.mavenNvrtcFile()) : Optional::empty).select();
    }

    @Test
    void withNothingOnTheSystemTheBundledNvrtcServesThroughForcedFfm() {
        fixture.property("lacuna.nvrtc.binding", "ffm");

        SearchResult<NvrtcBinding> result = select(true);

        NvrtcBinding binding = result.orElseThrow();
        assertInstanceOf(FfmNvrtc.class, binding);
        assertEquals(SearchStep.BUNDLED_JAR, result.selected().orElseThrow().step());
        assertEquals(List.of(SearchStep.EXPLICIT_PATH, SearchStep.CUDA_HOME, SearchStep.DEFAULT_CUDA,
                        SearchStep.LD_LIBRARY_PATH, SearchStep.PYTHON_SITE_PACKAGES, SearchStep.SYSTEM_FOLDERS,
                        SearchStep.BUNDLED_JAR),
                result.attempts().stream().map(SearchAttempt::step).toList());
        NvrtcResult compiled = binding.compile(TestKernels.SCALE_TO_HALF, "scale.cu", Map.of(), SM80);
        assertTrue(compiled.success(), compiled.log());
        TestKernels.assertCudaCubin(compiled.cubin(), "scale_to_half");

        NativeLibraryReport report = result.report(NvrtcBinding::description);
        assertTrue(report.available());
        assertEquals(binding.description(), report.servedBy());
        String text = report.render();
        assertTrue(text.startsWith("nvrtc: java.lang.foreign on "), text);
        assertTrue(text.contains("bundled in a jar: " + TestKernels.mavenNvrtcFile() + ": selected"), text);
        assertTrue(text.contains("CUDA_HOME / CUDA_PATH: skipped (CUDA_HOME and CUDA_PATH not set)"), text);
    }

    @Test
    void aSystemNvrtcWinsOverTheBundledOne() {
        MavenNvrtcLibrary.Extracted maven = TestKernels.mavenNvrtc();
        Path lib64 = fixture.root().resolve("cuda/lib64");
        Path nvrtc = SearchFixture.link(lib64.resolve("libnvrtc.so.12"), maven.nvrtc());
        SearchFixture.link(lib64.resolve(maven.builtins().getFileName().toString()), maven.builtins());
        fixture.env("CUDA_HOME", fixture.root().resolve("cuda")).property("lacuna.nvrtc.binding", "ffm");

        SearchResult<NvrtcBinding> result = select(true);

        assertEquals(SearchStep.CUDA_HOME, result.selected().orElseThrow().step());
        assertEquals(nvrtc, result.selected().orElseThrow().file());
        assertTrue(result.orElseThrow().description().contains(nvrtc.toString()), result.orElseThrow().description());
        assertTrue(result.attempts().stream().noneMatch(a -> a.step() == SearchStep.BUNDLED_JAR));
    }

    @Test
    void aSo13IsBoundThroughFfmAndItsLoaderErrorIsKept() {
        Path broken = SearchFixture.notAnElfFile(fixture.defaultCuda().resolve("lib64/libnvrtc.so.13"));

        SearchResult<NvrtcBinding> result = select(false);

        assertFalse(result.isFound());
        SearchAttempt rejected = result.attempts().stream()
                .filter(a -> a.outcome() == Outcome.REJECTED).findFirst().orElseThrow();
        assertEquals(broken, rejected.path());
        assertTrue(rejected.detail().contains("invalid ELF header"), rejected.detail());
        SearchAttempt bundled = result.attempts().getLast();
        assertEquals(SearchStep.BUNDLED_JAR, bundled.step());
        assertEquals(Outcome.NOT_CONFIGURED, bundled.outcome());
        LibraryLoadException failure = assertThrows(LibraryLoadException.class, result::orElseThrow);
        assertTrue(failure.getMessage().contains("invalid ELF header"), failure.getMessage());
        assertTrue(failure.getMessage().contains("cuda-redist"), failure.getMessage());
    }

    @Test
    void forcingJcudaRejectsAnythingButASo12() {
        Path so13 = SearchFixture.notAnElfFile(fixture.systemFolder().resolve("libnvrtc.so.13"));
        fixture.env("LACUNA_NVRTC_BINDING", "jcuda");

        SearchResult<NvrtcBinding> result = select(false);

        SearchAttempt rejected = result.attempts().stream()
                .filter(a -> so13.equals(a.path())).findFirst().orElseThrow();
        assertEquals(Outcome.REJECTED, rejected.outcome());
        assertTrue(rejected.detail().contains("JCuda binds only a .so.12"), rejected.detail());
    }

    @Test
    void anUnknownBindingSettingIsReportedByName() {
        fixture.property("lacuna.nvrtc.binding", "cuda-python");

        SearchResult<NvrtcBinding> result = select(true);

        LibraryLoadException failure = assertThrows(LibraryLoadException.class, result::orElseThrow);
        assertTrue(failure.getMessage().contains("lacuna.nvrtc.binding=cuda-python"), failure.getMessage());
        assertEquals(SearchStep.BINDING_SETTING, result.attempts().getFirst().step());
    }

    @Test
    void jcudaAndFfmBindingsOfOneLibraryMakeTheSameCubin() {
        SearchResult<NvrtcBinding> result = select(true);
        Assumptions.assumeTrue(result.isFound() || !result.failureMessage().contains("already bound"),
                "JNvrtc is bound to another libnvrtc in this JVM");

        NvrtcBinding jcuda = result.orElseThrow();
        assertInstanceOf(JcudaNvrtc.class, jcuda);
        MavenNvrtcLibrary.Extracted maven = TestKernels.mavenNvrtc();
        FfmNvrtc ffm = FfmNvrtc.load(maven.nvrtc(), maven.builtins());

        NvrtcResult viaJni = jcuda.compile(TestKernels.SCALE_TO_HALF, "scale.cu", Map.of(), SM80);
        NvrtcResult viaFfm = ffm.compile(TestKernels.SCALE_TO_HALF, "scale.cu", Map.of(), SM80);

        assertTrue(viaJni.success(), viaJni.log());
        assertEquals(jcuda.version(), ffm.version());
        assertArrayEquals(viaJni.cubin(), viaFfm.cubin());
    }

    @Test
    void theJvmWideChoiceIsMadeOnceAndReported() {
        NvrtcBinding first = NvrtcBindings.get();

        assertSame(first, NvrtcBindings.get());
        assertSame(first, NvrtcBindings.find().orElseThrow());
        NativeLibraryReport report = NvrtcBindings.report();
        assertTrue(report.available(), report.render());
        assertEquals(first.description(), report.servedBy());
        assertEquals(Outcome.SELECTED, report.attempts().getLast().outcome());
        NvrtcResult compiled = first.compile(TestKernels.SCALE_TO_HALF, "scale.cu", Map.of(),
                List.of("--gpu-architecture=sm_90a"));
        assertTrue(compiled.success(), compiled.log());
    }
}

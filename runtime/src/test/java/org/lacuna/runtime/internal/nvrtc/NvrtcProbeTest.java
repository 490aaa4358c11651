package org.lacuna.runtime.internal.nvrtc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.internal.nativelib.NativeLoader;
import org.lacuna.runtime.internal.nativelib.SearchAttempt;
import org.lacuna.runtime.internal.nativelib.SearchAttempt.Outcome;
import org.lacuna.runtime.internal.nativelib.SearchFixture;
import org.lacuna.runtime.internal.nativelib.SearchResult;
import org.lacuna.runtime.internal.nativelib.SearchStep;
import org.lacuna.runtime.internal.nativelib.StubLibraries;

/** An NVRTC that loads but cannot compile (as when its builtins are missing) is passed over, with NVRTC's log. */
class NvrtcProbeTest {
    /** Every compilation fails the way NVRTC does when it cannot open libnvrtc-builtins. */
    private static final String BROKEN_NVRTC = """
            #include <stddef.h>
            #include <string.h>
            static const char LOG[] = "nvrtc: error: failed to open libnvrtc-builtins.so.13.0";
            static int program;
            int stub_destroyed;
            int nvrtcVersion(int *major, int *minor) { *major = 13; *minor = 0; return 0; }
            const char *nvrtcGetErrorString(int result) { return result == 6 ? "NVRTC_ERROR_COMPILATION" : "OTHER"; }
            int nvrtcCreateProgram(void **prog, const char *src, const char *name, int n, const char *const *h,
                                   const char *const *names) { *prog = &program; return 0; }
            int nvrtcCompileProgram(void *prog, int n, const char *const *options) { return 6; }
            int nvrtcGetProgramLogSize(void *prog, size_t *size) { *size = sizeof LOG; return 0; }
            int nvrtcGetProgramLog(void *prog, char *log) { memcpy(log, LOG, sizeof LOG); return 0; }
            int nvrtcGetCUBINSize(void *prog, size_t *size) { return 4; }
            int nvrtcGetCUBIN(void *prog, char *cubin) { return 4; }
            int nvrtcDestroyProgram(void **prog) { stub_destroyed++; *prog = NULL; return 0; }
            """;

    @TempDir
    Path temp;

    @Test
    void aLibraryThatCannotCompileIsRejectedAndTheNextPlaceServes() {
        SearchFixture fixture = new SearchFixture(temp);
        Path cudaHome = fixture.root().resolve("cuda-13");
        Path broken = StubLibraries.compile(cudaHome.resolve("lib64"), "libnvrtc.so.13", BROKEN_NVRTC);
        fixture.env("CUDA_HOME", cudaHome).property("lacuna.nvrtc.binding", "ffm");

        SearchResult<NvrtcBinding> result = new NvrtcSelector(fixture.environment(),
                () -> Optional.of(TestKernels.mavenNvrtcFile())).select();

        SearchAttempt rejected = result.attempts().stream()
                .filter(a -> broken.equals(a.path())).findFirst().orElseThrow();
        assertEquals(Outcome.REJECTED, rejected.outcome());
        assertTrue(rejected.detail().contains("loads but cannot compile: nvrtc: error: failed to open "
                + "libnvrtc-builtins.so.13.0"), rejected.detail());
        assertEquals(SearchStep.BUNDLED_JAR, result.selected().orElseThrow().step());
        assertInstanceOf(FfmNvrtc.class, result.orElseThrow());
    }

    @Test
    void aFailedCompilationStillDestroysItsProgram() {
        Path broken = StubLibraries.compile(temp, "libnvrtc.so.13", BROKEN_NVRTC);
        FfmNvrtc nvrtc = FfmNvrtc.load(broken, null);

        NvrtcBinding.NvrtcResult result = nvrtc.compile("x", "x.cu", Map.of("a.h", "int a;"), List.of("-G"));

        assertFalse(result.success());
        assertEquals("nvrtc: error: failed to open libnvrtc-builtins.so.13.0", result.log());
        assertEquals(13000, nvrtc.version());
        assertEquals(1, StubLibraries.ints(NativeLoader.load("stub", broken), "stub_destroyed", 1)
                .get(ValueLayout.JAVA_INT, 0));
    }
}

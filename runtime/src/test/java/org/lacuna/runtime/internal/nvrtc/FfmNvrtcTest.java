package org.lacuna.runtime.internal.nvrtc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.internal.nvrtc.NvrtcBinding.NvrtcResult;

/** FfmNvrtc against the real NVRTC 12.9 of the cuda-redist jar: compiles on a machine with no GPU or CUDA install. */
class FfmNvrtcTest {
    private static FfmNvrtc nvrtc;

    @BeforeAll
    static void bind() {
        MavenNvrtcLibrary.Extracted maven = TestKernels.mavenNvrtc();
        nvrtc = FfmNvrtc.load(maven.nvrtc(), maven.builtins());
    }

    @Test
    void reportsTheLibrarysVersionAndFile() {
        assertEquals(12090, nvrtc.version());
        assertTrue(nvrtc.description().startsWith("java.lang.foreign on "), nvrtc.description());
        assertTrue(nvrtc.description().contains("libnvrtc.so.12"), nvrtc.description());
        assertTrue(nvrtc.description().endsWith("(NVRTC 12.9)"), nvrtc.description());
    }

    @Test
    void compilesAnFp16KernelForSm90aAndSm80() {
        NvrtcResult hopper = nvrtc.compile(TestKernels.SCALE_TO_HALF, "scale.cu", Map.of(),
                List.of("--gpu-architecture=sm_90a"));
        NvrtcResult ampere = nvrtc.compile(TestKernels.SCALE_TO_HALF, "scale.cu", Map.of(),
                List.of("--gpu-architecture=sm_80"));

        assertTrue(hopper.success(), hopper.log());
        assertTrue(ampere.success(), ampere.log());
        TestKernels.assertCudaCubin(hopper.cubin(), "scale_to_half");
        TestKernels.assertCudaCubin(ampere.cubin(), "scale_to_half");
        assertFalse(Arrays.equals(hopper.cubin(), ampere.cubin()), "two architectures, one cubin");
    }

    @Test
    void aCompileErrorIsAResultWithTheLogNotAnException() {
        String broken = "extern \"C\" __global__ void k(float* x) { x[0] = undeclared_thing; }";

        NvrtcResult result = nvrtc.compile(broken, "broken.cu", Map.of(), List.of("--gpu-architecture=sm_80"));

        assertFalse(result.success());
        assertEquals(0, result.cubin().length);
        assertTrue(result.log().contains("undeclared_thing"), result.log());
        assertTrue(result.log().contains("error"), result.log());
        assertTrue(result.log().contains("broken.cu"), result.log());
    }

    @Test
    void headersAreHandedToNvrtcByIncludeName() {
        String source = """
                #include "lacuna_scale.h"
                extern "C" __global__ void triple(float* x) { x[threadIdx.x] *= LACUNA_SCALE; }
                """;

        NvrtcResult withHeader = nvrtc.compile(source, "triple.cu", Map.of("lacuna_scale.h", "#define LACUNA_SCALE 3.0f\n"),
                List.of("--gpu-architecture=sm_80"));
        NvrtcResult withoutHeader = nvrtc.compile(source, "triple.cu", Map.of(), List.of("--gpu-architecture=sm_80"));

        assertTrue(withHeader.success(), withHeader.log());
        TestKernels.assertCudaCubin(withHeader.cubin(), "triple");
        assertFalse(withoutHeader.success());
        assertTrue(withoutHeader.log().contains("lacuna_scale.h"), withoutHeader.log());
    }

    @Test
    void anInvalidOptionFailsWithAMessage() {
        NvrtcResult result = nvrtc.compile(TestKernels.SCALE_TO_HALF, "scale.cu", Map.of(),
                List.of("--gpu-architecture=sm_1"));

        assertFalse(result.success());
        assertFalse(result.log().isBlank());
    }

    @Test
    void compilesFromSeveralThreadsAtOnce() throws Exception {
        byte[] expected = nvrtc.compile(TestKernels.SCALE_TO_HALF, "scale.cu", Map.of(),
                List.of("--gpu-architecture=sm_80")).cubin();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<NvrtcResult>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(pool.submit(() -> nvrtc.compile(TestKernels.SCALE_TO_HALF, "scale.cu", Map.of(),
                        List.of("--gpu-architecture=sm_80"))));
            }
            for (Future<NvrtcResult> result : results) {
                NvrtcResult done = result.get();
                assertTrue(done.success(), done.log());
                assertArrayEquals(expected, done.cubin());
            }
        }
    }
}

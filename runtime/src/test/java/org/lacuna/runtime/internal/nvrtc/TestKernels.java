package org.lacuna.runtime.internal.nvrtc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Small kernels that compile without any CUDA header, and checks on the cubins NVRTC makes of them. */
final class TestKernels {
    /** fp32 → fp16 through inline PTX, so the test needs no cuda_fp16.h. */
    static final String SCALE_TO_HALF = """
            extern "C" __global__ void scale_to_half(const float* in, unsigned short* out, float factor, int n) {
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) {
                    unsigned short bits;
                    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(bits) : "f"(in[i] * factor));
                    out[i] = bits;
                }
            }
            """;

    /** ELF e_machine of CUDA device code. */
    private static final int EM_CUDA = 190;

    private TestKernels() {
    }

    /** The Maven NVRTC (org.bytedeco:cuda-redist is a test dependency), extracted into the build's cache. */
    static MavenNvrtcLibrary.Extracted mavenNvrtc() {
        var extracted = MavenNvrtcLibrary.extract();
        Assumptions.assumeTrue(extracted.isPresent(), "org.bytedeco:cuda-redist is not on the test class path");
        return extracted.get();
    }

    static Path mavenNvrtcFile() {
        return mavenNvrtc().nvrtc();
    }

    /** A 64-bit little-endian CUDA ELF that names {@code kernel} in its symbols. */
    static void assertCudaCubin(byte[] cubin, String kernel) {
        assertTrue(cubin.length > 64, "cubin of " + cubin.length + " bytes");
        assertEquals(0x7F, cubin[0] & 0xFF);
        assertEquals('E', cubin[1]);
        assertEquals('L', cubin[2]);
        assertEquals('F', cubin[3]);
        assertEquals(2, cubin[4], "ELFCLASS64");
        assertEquals(1, cubin[5], "little-endian");
        ByteBuffer header = ByteBuffer.wrap(cubin).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(EM_CUDA, header.getShort(18) & 0xFFFF, "e_machine");
        assertTrue(new String(cubin, StandardCharsets.ISO_8859_1).contains(kernel), "kernel symbol " + kernel);
    }
}

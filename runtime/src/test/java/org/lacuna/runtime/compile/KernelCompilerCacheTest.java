package org.lacuna.runtime.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.kernels.KernelSource;
import org.lacuna.runtime.error.CompilationException;
import org.lacuna.runtime.internal.nvrtc.NvrtcBinding;

class KernelCompilerCacheTest {
    private static final KernelSource SOURCE = new KernelSource("k.cu",
            "extern \"C\" __global__ void k(float* y) { y[0] = VALUE; }", List.of(Map.of()));

    /** Produces a deterministic "cubin" from its inputs and counts its calls. */
    static final class CountingNvrtc implements NvrtcBinding {
        final AtomicInteger calls = new AtomicInteger();
        int version = 12090;

        @Override
        public String description() {
            return "counting fake";
        }

        @Override
        public int version() {
            return version;
        }

        @Override
        public NvrtcResult compile(String source, String name, Map<String, String> headers, List<String> options) {
            calls.incrementAndGet();
            if (source.contains("syntax error")) {
                return new NvrtcResult(false, new byte[0], name + "(1): error: expected a ;");
            }
            byte[] cubin = (name + options).getBytes();
            return new NvrtcResult(true, cubin, "ptxas info    : Compiling entry function 'k' for 'sm_80'\n"
                    + "ptxas info    : Function properties for k\n"
                    + "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
                    + "ptxas info    : Used 8 registers, used 0 barriers, 356 bytes cmem[0]\n");
        }
    }

    private KernelCompiler compiler(CountingNvrtc nvrtc, Path dir) {
        return new KernelCompiler(nvrtc, new CubinDiskCache(dir), Map.of(), Optional.empty());
    }

    @Test
    void missThenMemoryHitThenDiskHitInANewCompiler(@TempDir Path dir) {
        CountingNvrtc nvrtc = new CountingNvrtc();
        CompileRequest request = new CompileRequest(SOURCE, Map.of("VALUE", "1.0f"), "sm_80");
        KernelCompiler first = compiler(nvrtc, dir);
        CompiledKernel compiled = first.compile(request);
        assertEquals(CompiledKernel.Origin.COMPILED, compiled.origin());
        assertEquals(CompiledKernel.Origin.MEMORY_CACHE, first.compile(request).origin());
        assertEquals(1, nvrtc.calls.get());

        // A second program run: new compiler, same disk cache, nothing compiled.
        KernelCompiler second = compiler(nvrtc, dir);
        CompiledKernel cached = second.compile(request);
        assertEquals(CompiledKernel.Origin.DISK_CACHE, cached.origin());
        assertArrayEquals(compiled.cubin(), cached.cubin());
        assertEquals(compiled.log(), cached.log(), "the NVRTC log is kept with the cubin");
        assertEquals(8, cached.resources().functions().get(0).registers());
        assertEquals(1, nvrtc.calls.get());
        assertEquals(0, second.compilations());
    }

    @Test
    void keyCoversConstantsArchitectureAndNvrtcVersion(@TempDir Path dir) {
        CountingNvrtc nvrtc = new CountingNvrtc();
        KernelCompiler compiler = compiler(nvrtc, dir);
        CompileRequest base = new CompileRequest(SOURCE, Map.of("VALUE", "1.0f"), "sm_80");
        String key = compiler.cacheKey(base, compiler.options(base));
        CompileRequest otherConstant = new CompileRequest(SOURCE, Map.of("VALUE", "2.0f"), "sm_80");
        CompileRequest otherArch = new CompileRequest(SOURCE, Map.of("VALUE", "1.0f"), "sm_90a");
        assertNotEquals(key, compiler.cacheKey(otherConstant, compiler.options(otherConstant)));
        assertNotEquals(key, compiler.cacheKey(otherArch, compiler.options(otherArch)));
        nvrtc.version = 13000;
        assertNotEquals(key, compiler.cacheKey(base, compiler.options(base)));
    }

    @Test
    void corruptedOrTruncatedCacheFileIsRecompiled(@TempDir Path dir) throws IOException {
        CountingNvrtc nvrtc = new CountingNvrtc();
        CompileRequest request = new CompileRequest(SOURCE, Map.of("VALUE", "1.0f"), "sm_80");
        CompiledKernel original = compiler(nvrtc, dir).compile(request);
        Path file = new CubinDiskCache(dir).cubinFile(original.key());

        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 0x5A; // flip bits in the payload
        Files.write(file, bytes);
        CompiledKernel afterCorruption = compiler(nvrtc, dir).compile(request);
        assertEquals(CompiledKernel.Origin.COMPILED, afterCorruption.origin());
        assertArrayEquals(original.cubin(), afterCorruption.cubin());

        Files.write(file, java.util.Arrays.copyOf(Files.readAllBytes(file), 20)); // truncated
        assertEquals(CompiledKernel.Origin.COMPILED, compiler(nvrtc, dir).compile(request).origin());
        assertEquals(3, nvrtc.calls.get());
        assertEquals(CompiledKernel.Origin.DISK_CACHE, compiler(nvrtc, dir).compile(request).origin());
    }

    @Test
    void compileErrorCarriesTheLogAndIsNotCached(@TempDir Path dir) {
        CountingNvrtc nvrtc = new CountingNvrtc();
        KernelSource broken = new KernelSource("bad.cu", "syntax error", List.of(Map.of()));
        KernelCompiler compiler = compiler(nvrtc, dir);
        CompilationException e = assertThrows(CompilationException.class,
                () -> compiler.compile(new CompileRequest(broken, Map.of(), "sm_90a")));
        assertTrue(e.log().contains("expected a ;"));
        assertTrue(e.getMessage().contains("bad.cu"));
        assertThrows(CompilationException.class, () -> compiler.compile(new CompileRequest(broken, Map.of(), "sm_90a")));
        assertEquals(2, nvrtc.calls.get());
        assertTrue(new CubinDiskCache(dir).entries().isEmpty());
    }

    @Test
    void optionsNameTheExactArchitectureAndConstants(@TempDir Path dir) {
        KernelCompiler compiler = compiler(new CountingNvrtc(), dir);
        List<String> options = compiler.options(new CompileRequest(SOURCE, Map.of("BLOCK", "128"), "sm_90a"));
        assertTrue(options.contains("--gpu-architecture=sm_90a"));
        assertTrue(options.contains("-DBLOCK=128"));
        assertTrue(options.contains("--ptxas-options=-v"));
        assertThrows(IllegalArgumentException.class, () -> new CompileRequest(SOURCE, Map.of(), "compute_80"));
    }
}

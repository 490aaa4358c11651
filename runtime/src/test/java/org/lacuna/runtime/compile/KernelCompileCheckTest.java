package org.lacuna.runtime.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lacuna.kernels.KernelSource;
import org.lacuna.kernels.KernelSources;
import org.lacuna.runtime.error.CompilationException;

/**
 * The gate every kernel passes before it lands: each shipped {@code .cu}, in every variant it declares, compiles
 * through the runtime's own NVRTC path for every supported architecture, with no register spills. The ptxas
 * report is written to {@code target/kernel-compile-report.md}.
 */
class KernelCompileCheckTest {
    static final List<String> ARCHITECTURES = List.of("sm_80", "sm_86", "sm_89", "sm_90a");

    @Test
    void everyShippedKernelCompilesForEveryArchitectureWithoutSpills() throws IOException {
        KernelCompiler compiler = KernelCompilers.shared();
        List<String> failures = new ArrayList<>();
        StringBuilder report = new StringBuilder("# Kernel compile report\n\nNVRTC: ")
                .append(compiler.nvrtc().description()).append("\n\nHeaders: ").append(compiler.headerSource())
                .append("\n\n| kernel | variant | arch | function | registers | smem B | stack B | spill st B | spill ld B |\n")
                .append("|---|---|---|---|---|---|---|---|---|\n");
        int compiled = 0;
        for (KernelSource source : KernelSources.shipped().kernels()) {
            for (Map<String, String> variant : source.variants()) {
                for (String arch : ARCHITECTURES) {
                    if (!source.supports(arch)) {
                        continue;
                    }
                    CompileRequest request = new CompileRequest(source, variant, arch);
                    try {
                        CompiledKernel kernel = compiler.compile(request);
                        compiled++;
                        assertTrue(kernel.cubin().length > 4 && kernel.cubin()[0] == 0x7F && kernel.cubin()[1] == 'E',
                                request.displayName() + " did not produce an ELF cubin");
                        PtxasReport resources = kernel.resources();
                        if (resources.functions().isEmpty()) {
                            failures.add(request.displayName() + ": no ptxas report in the log:\n" + kernel.log());
                        }
                        for (PtxasReport.FunctionResources f : resources.functions()) {
                            report.append(String.format("| %s | %s | %s | %s | %d | %d | %d | %d | %d |%n",
                                    source.fileName(), variant, arch, f.function(), f.registers(), f.sharedBytes(),
                                    f.stackBytes(), f.spillStoreBytes(), f.spillLoadBytes()));
                            if (f.spills()) {
                                failures.add(request.displayName() + ": " + f.function() + " spills "
                                        + f.spillStoreBytes() + " B / " + f.spillLoadBytes() + " B");
                            }
                        }
                    } catch (CompilationException e) {
                        failures.add(e.getMessage());
                    }
                }
            }
        }
        Path out = Path.of("target", "kernel-compile-report.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report.append("\n").append(compiled).append(" compilations\n"));
        if (!failures.isEmpty()) {
            fail(failures.size() + " kernel compile check(s) failed:\n" + String.join("\n\n", failures));
        }
        assertFalse(KernelSources.shipped().kernels().isEmpty());
    }

    @Test
    void aBrokenKernelFailsWithNvrtcsLog() {
        KernelSource broken = new KernelSource("broken.cu",
                "#include \"lacuna_common.cuh\"\nextern \"C\" __global__ void broken(float* y) { y[0] = undefined_name; }\n",
                List.of(Map.of()));
        CompilationException e = org.junit.jupiter.api.Assertions.assertThrows(CompilationException.class,
                () -> KernelCompilers.shared().compile(new CompileRequest(broken, Map.of(), "sm_80")));
        assertTrue(e.log().contains("undefined_name"), e.log());
        assertEquals("broken.cu[]@sm_80", e.kernelName());
    }
}

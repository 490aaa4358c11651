package org.lacuna.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class KernelSourcesTest {

    @Test
    void indexListsExactlyTheFilesInTheFolder() throws IOException {
        Path folder = Path.of("src/main/resources/org/lacuna/kernels");
        try (Stream<Path> files = Files.list(folder)) {
            List<String> onDisk = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".cu") || n.endsWith(".cuh")).sorted().toList();
            assertEquals(onDisk, KernelSources.index().stream().sorted().toList(),
                    "INDEX must list every .cu/.cuh in the kernels folder, and nothing else");
        }
    }

    @Test
    void everyKernelIncludesOnlyShippedHeadersAndDeclaresVariants() {
        KernelSources sources = KernelSources.shipped();
        assertFalse(sources.kernels().isEmpty());
        for (KernelSource kernel : sources.kernels()) {
            kernel.text().lines().filter(l -> l.strip().startsWith("#include")).forEach(line -> {
                String included = line.replaceAll(".*[\"<](.*)[\">].*", "$1");
                assertTrue(sources.headers().containsKey(included), kernel.fileName() + " includes unshipped " + included);
            });
            assertFalse(kernel.variants().isEmpty(), kernel.fileName());
        }
    }

    @Test
    void parsesVariantGroups() {
        List<Map<String, String>> variants = KernelSources.parseVariants("k.cu",
                "// lacuna-variants: T_IN=f32 ACT=relu | T_IN=f16 ACT=gelu\n__global__ void k() {}");
        assertEquals(List.of(Map.of("T_IN", "f32", "ACT", "relu"), Map.of("T_IN", "f16", "ACT", "gelu")), variants);
        assertEquals(List.of(Map.of()), KernelSources.parseVariants("k.cu", "__global__ void k() {}"));
        assertThrows(IllegalStateException.class, () -> KernelSources.parseVariants("k.cu", "// lacuna-variants: T_IN="));
    }

    @Test
    void parsesArchitectureRestrictions() {
        assertEquals(List.of("sm_90a"), KernelSources.parseArchitectures("// lacuna-architectures: sm_90a\nx"));
        assertEquals(List.of(), KernelSources.parseArchitectures("__global__ void k() {}"));
        KernelSource hopperOnly = new KernelSource("h.cu", "", List.of(Map.of()), List.of("sm_90a"));
        assertTrue(hopperOnly.supports("sm_90a"));
        assertFalse(hopperOnly.supports("sm_80"));
        assertTrue(new KernelSource("k.cu", "", List.of(Map.of())).supports("sm_80"));
    }
}

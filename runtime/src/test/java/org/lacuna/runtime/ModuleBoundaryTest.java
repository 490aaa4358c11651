package org.lacuna.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.BackendProvider;

/** The runtime's module descriptor: the API packages are exported, the implementation is not. */
class ModuleBoundaryTest {
    private static ModuleDescriptor descriptor() throws URISyntaxException {
        Path classes = Path.of(Backend.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return ModuleFinder.of(classes).find("org.lacuna.runtime").orElseThrow().descriptor();
    }

    @Test
    void noImplementationPackageIsExported() throws Exception {
        ModuleDescriptor module = descriptor();
        Set<String> exported = module.exports().stream().map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toCollection(TreeSet::new));
        for (String pkg : module.packages()) {
            boolean implementation = pkg.contains(".internal") || pkg.startsWith("org.lacuna.runtime.cpu")
                    || pkg.equals("org.lacuna.runtime.compile") || pkg.equals("org.lacuna.runtime.memory");
            assertEquals(!implementation, exported.contains(pkg), pkg + (implementation ? " is implementation"
                    : " is API") + " but the descriptor " + (implementation ? "exports" : "does not export") + " it");
        }
        assertTrue(module.exports().stream().noneMatch(ModuleDescriptor.Exports::isQualified),
                "no package is exported to a friend module only");
        assertTrue(module.opens().isEmpty(), "nothing is opened for reflection");
    }

    @Test
    void theDescriptorProvidesTheBackendsTheServiceFileLists() throws Exception {
        ModuleDescriptor module = descriptor();
        assertTrue(module.uses().contains(BackendProvider.class.getName()));
        List<String> provided = module.provides().stream()
                .filter(p -> p.service().equals(BackendProvider.class.getName()))
                .flatMap(p -> p.providers().stream()).sorted().toList();
        assertEquals(serviceFile(), provided, "module-info.java and META-INF/services must list the same backends");
    }

    @Test
    void theVectorApiStaysOptional() throws Exception {
        ModuleDescriptor.Requires vector = descriptor().requires().stream()
                .filter(r -> r.name().equals("jdk.incubator.vector")).findFirst().orElseThrow();
        assertTrue(vector.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC),
                "requires static, so the CPU backend runs without --add-modules jdk.incubator.vector");
        assertFalse(descriptor().isOpen());
    }

    /**
     * The op interfaces and the types they speak in are the core every backend implements: none of them refers to a
     * backend's package ({@code cpu}, {@code internal.*}). Read from the compiled classes (a class file names every
     * type its code uses, in its constant pool, whether imported or written out in full; comments do not count).
     */
    @Test
    void theCoreTypesDependOnNoBackend() throws Exception {
        Path classes = Path.of(Backend.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> core = List.of("attention", "backend", "data", "error", "gemm", "lifetime", "math", "ops",
                "pointcloud", "sparseconv");
        List<String> backends = List.of("org/lacuna/runtime/cpu/", "org/lacuna/runtime/internal/");
        List<String> offending = new java.util.ArrayList<>();
        int scanned = 0;
        for (String pkg : core) {
            Path dir = classes.resolve("org/lacuna/runtime").resolve(pkg);
            try (var files = java.nio.file.Files.list(dir)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                    String constants = new String(java.nio.file.Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                    scanned++;
                    for (String backend : backends) {
                        if (constants.contains(backend)) {
                            offending.add(classes.relativize(file) + " refers to " + backend);
                        }
                    }
                }
            }
        }
        assertTrue(scanned > 50, "found the core classes (" + scanned + ") under " + classes);
        assertEquals(List.of(), offending, "core types refer to a backend's package");
    }

    private static List<String> serviceFile() throws IOException {
        try (InputStream in = ModuleBoundaryTest.class.getResourceAsStream(
                "/META-INF/services/" + BackendProvider.class.getName())) {
            return Arrays.stream(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"))
                    .map(String::strip).filter(line -> !line.isEmpty() && !line.startsWith("#")).sorted().toList();
        }
    }
}

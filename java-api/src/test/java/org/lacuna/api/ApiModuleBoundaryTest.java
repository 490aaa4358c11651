package org.lacuna.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The API module's descriptor: the API packages exported, the command line and generated classes only opened. */
class ApiModuleBoundaryTest {
    @Test
    void theApiPackagesAreExportedAndTheCommandLineIsNot() throws Exception {
        Path classes = Path.of(Session.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ModuleDescriptor module = ModuleFinder.of(classes).find("org.lacuna.api").orElseThrow().descriptor();
        Set<String> exported = module.exports().stream().map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toCollection(TreeSet::new));
        for (String pkg : module.packages()) {
            boolean api = pkg.startsWith("org.lacuna.api");
            assertEquals(api, exported.contains(pkg), pkg);
        }
        Set<String> opened = module.opens().stream().map(o -> o.source() + " to " + o.targets())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of("org.lacuna.cli to [info.picocli]"),
                opened);
        assertTrue(module.requires().stream().anyMatch(r -> r.name().equals("org.lacuna.runtime")
                && r.modifiers().contains(ModuleDescriptor.Requires.Modifier.TRANSITIVE)),
                "API signatures use the runtime's types, so the runtime is required transitively");
    }
}

package org.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backends;

class LacunaCliTest {
    @Test
    void infoSaysWhichBackendServesAndWhyCudaDoesNot() {
        String[] result = CliRun.run("info");
        assertEquals("0", result[0], result[2]);
        String text = result[1];
        assertTrue(text.contains("jdk: 25"), text);
        assertTrue(text.contains("serving backend:"), text);
        assertTrue(text.contains("cpu kernels: ") && text.contains("worker threads; Vector API kernels"), text);
        assertTrue(text.contains("nvrtc:") && text.contains("cublas:") && text.contains("cusparse:"), text);
        assertTrue(text.contains("kernel cache:"), text);
        if (!Backends.survey().get(0).availability().available()) {
            assertTrue(text.contains("serving backend: cpu (fallback: cuda unavailable"), text);
            assertTrue(text.contains("unavailable because:"), text);
        }
    }

    @Test
    void infoAsJson() throws Exception {
        String[] result = CliRun.run("info", "--json");
        assertEquals("0", result[0], result[2]);
        var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(result[1]);
        assertTrue(tree.get("backends").isArray());
        assertEquals(3, tree.get("backends").size());
    }

    @Test
    void selftestPassesOnTheServingBackend() {
        String[] result = CliRun.run("selftest", "--rows", "33", "--cols", "65", "--seed", "7");
        assertEquals("0", result[0], result[1] + result[2]);
        assertTrue(result[1].contains("all ops match the CPU reference"), result[1]);
    }

    @Test
    void unknownCommandIsAUsageError() {
        String[] result = CliRun.run("frobnicate");
        assertEquals("1", result[0], "usage errors exit 1, as bad input does");
        assertTrue(result[2].contains("frobnicate"), result[2]);
    }

    @Test
    void benchWithoutTheBenchModuleSaysHowToBuildIt() {
        // java-api's tests run without the bench module on the class path.
        String[] result = CliRun.run("bench", "--quick");
        assertEquals("1", result[0]);
        assertTrue(result[2].contains("bench module") && result[2].contains("./mvnw -B -DskipTests package"), result[2]);
        assertTrue(CliRun.run("--help")[1].contains("bench"), "lacuna --help lists bench");
    }
}

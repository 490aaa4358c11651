package org.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backends;

class LacunaCliTest {
    @Test
    void infoSaysWhichBackendServesAndWhyCudaDoesNotFirstAndInAFewLines() {
        String[] result = CliRun.run("info");
        assertEquals("0", result[0], result[2]);
        String text = result[1];
        List<String> lines = text.lines().toList();
        assertTrue(lines.size() <= 5, text);
        assertTrue(lines.get(0).startsWith("serving backend: "), text);
        assertTrue(text.contains("cpu kernels: ") && text.contains("worker threads; Vector API kernels"), text);
        assertTrue(text.contains("(details: lacuna info --verbose)"), text);
        assertFalse(text.contains("nvrtc:"), "search paths only with --verbose: " + text);
        if (!Backends.survey().get(0).availability().available()) {
            assertTrue(text.contains("serving backend: cpu (the best available here)"), text);
            assertTrue(lines.get(1).startsWith("why not cuda: ") && lines.get(1).length() > 20, text);
        }
    }

    @Test
    void infoVerboseAddsTheDetails() {
        String[] result = CliRun.run("info", "--verbose");
        assertEquals("0", result[0], result[2]);
        String text = result[1];
        assertTrue(text.startsWith("serving backend: "), text);
        assertTrue(text.contains("jdk: 25"), text);
        assertTrue(text.contains("nvrtc:") && text.contains("cublas:") && text.contains("cusparse:"), text);
        assertTrue(text.contains("kernel cache:"), text);
        if (!Backends.survey().get(0).availability().available()) {
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
        assertTrue(tree.get("serving backend").asText().length() > 3, result[1]);
    }

    @Test
    void selftestComparesEveryOpFamilyWithTheReferenceAndPrintsTheErrors() {
        String[] result = CliRun.run("selftest", "--rows", "33", "--cols", "65", "--seed", "7");
        assertEquals("0", result[0], result[1] + result[2]);
        String out = result[1];
        assertTrue(out.contains("reference: cpu-reference (double precision); seed 7"), out);
        for (String family : new String[] {"elementwise:", "GEMM:", "attention:", "sparse convolution:",
                "voxelisation:"}) {
            assertTrue(out.contains("\n" + family + "\n"), family + " in " + out);
        }
        for (String op : new String[] {"biasActivation GELU BF16", "linear DENSE F16", "linear TWO_FOUR F16",
                "linear CSR F16", "keep 0.5 by score, attention on kept F16", "submanifold k3 16->24 F32 implicit-gemm",
                "transposed k2 s2 16->24 F16 gather-gemm-scatter", "mean voxels at 0.05 m, synthetic scan"}) {
            assertTrue(out.contains("  " + op), op + " in " + out);
        }
        assertTrue(out.lines().filter(l -> l.startsWith("  ")).allMatch(l -> l.contains(" err ")
                || l.contains("unavailable here")), out);
        assertTrue(out.contains("every one within its bound of the double-precision reference"), out);
    }

    @Test
    void selftestRefusesSizesThatMakeNoSense() {
        for (String[] args : new String[][] {{"--rows", "-5"}, {"--cols", "0"}, {"--rows", "100000", "--cols",
                "100000"}}) {
            String[] all = new String[args.length + 1];
            all[0] = "selftest";
            System.arraycopy(args, 0, all, 1, args.length);
            String[] result = CliRun.run(all);
            assertEquals("1", result[0], java.util.Arrays.toString(args) + ": " + result[2]);
            assertTrue(result[2].contains("--rows and --cols must be at least 1"), result[2]);
        }
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

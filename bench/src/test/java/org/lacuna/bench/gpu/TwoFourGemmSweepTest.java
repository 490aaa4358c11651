package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lacuna.runtime.data.DType;

class TwoFourGemmSweepTest {
    /** The anchor script, from the bench module's directory (where Maven runs the tests). */
    static final Path SCRIPT = Path.of("anchors", "two_four_gemm_anchor.py");

    private static List<String> ids(List<TwoFourGemmCase> cases) {
        return cases.stream().map(TwoFourGemmCase::id).toList();
    }

    @Test
    void allPutsTheHeadlineCasesFirstThenEveryOtherCaseOnce() {
        List<TwoFourGemmCase> all = TwoFourGemmSweep.select("all");
        List<TwoFourGemmCase> headline = TwoFourGemmSweep.headline();

        assertEquals(27, headline.size()); // 8192³, 6 FFN shapes x {2048, 16384}, 7 shapes x {1, 16}
        assertEquals(45, all.size());      // 5 squares x 2 dtypes + 7 shapes x 5 token counts
        assertEquals(ids(headline), ids(all.subList(0, headline.size())));
        assertEquals("square-8192-f16", all.getFirst().id());
        assertEquals(all.size(), ids(all).stream().distinct().count());
        for (int n : TwoFourGemmSweep.SQUARE_SIZES) {
            assertTrue(ids(all).contains("square-" + n + "-f16"));
            assertTrue(ids(all).contains("square-" + n + "-bf16"));
        }
        assertTrue(ids(all).contains("llama-7b-ffn-down-4096x11008-t128-f16"));
        assertTrue(all.stream().filter(c -> !c.model().equals("square")).allMatch(c -> c.dtype() == DType.F16));
        assertEquals(80, TwoFourGemmSweep.select("everything").size());
    }

    @Test
    void theHeadlineHoldsTheBigSquareTheFfnPrefillsAndTheDecodeBatches() {
        for (TwoFourGemmCase c : TwoFourGemmSweep.headline()) {
            boolean square8192 = c.id().equals("square-8192-f16");
            boolean ffnPrefill = c.layer().startsWith("ffn") && c.tokens() >= 2048;
            boolean decode = c.tokens() == 1 || c.tokens() == 16;
            assertTrue(square8192 || ffnPrefill || decode, c.id());
        }
    }

    @Test
    void itemsCombinePresetsCustomProblemsAndRegularExpressionsInOrder() {
        List<TwoFourGemmCase> cases = TwoFourGemmSweep.select(" smoke , 16x128x64-bf16,llama-7b-ffn-up.*t1-,square-1024");

        assertEquals(List.of("square-1024-f16", "bert-base-ffn-up-3072x768-t128-f16", "custom-128x64-t16-bf16",
                "llama-7b-ffn-up-11008x4096-t1-f16", "llama-7b-ffn-up-11008x4096-t1-bf16", "square-1024-bf16"),
                ids(cases));
        TwoFourGemmCase custom = cases.get(2);
        assertEquals(16, custom.tokens());
        assertEquals(128, custom.out());
        assertEquals(64, custom.in());
        assertEquals(DType.BF16, custom.dtype());
        assertEquals(DType.F16, TwoFourGemmSweep.select("3x5x7").getFirst().dtype());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", ",", "all"})
    void anEmptySelectionMeansAll(String selection) {
        assertEquals(ids(TwoFourGemmSweep.select("all")), ids(TwoFourGemmSweep.select(selection)));
    }

    @Test
    void aTypoFailsInsteadOfShrinkingTheSweep() {
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> TwoFourGemmSweep.select("headline,lamma"));
        assertTrue(none.getMessage().contains("'lamma' matches no case"), none.getMessage());
        IllegalArgumentException malformed = assertThrows(IllegalArgumentException.class,
                () -> TwoFourGemmSweep.select("square-(1024"));
        assertTrue(malformed.getMessage().contains("square-(1024"), malformed.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TwoFourGemmSweep.select("0x128x64"));
    }

    @Test
    void workIsCountedDenseEquivalent() {
        TwoFourGemmCase c = TwoFourGemmSweep.select("llama-7b-ffn-up-11008x4096-t2048-f16").getFirst();
        assertEquals(2L * 2048 * 11008 * 4096, c.flops());
        assertEquals(2L * (2048 * 4096 + 2048 * 11008), c.activationBytes());
        assertEquals(c.activationBytes() + 2L * 11008 * 4096, c.denseBytes());
        assertEquals("llama-7b-ffn-up-11008x4096-t2048-f16", c.params().get("case"));
        assertEquals(4096, c.params().get("in"));
        assertEquals("f16", c.params().get("dtype"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"all", "everything", "headline", "smoke", "layers-bf16",
            "llama.*t16-,7x96x40-bf16,squares,bert-base-attn-proj"})
    void theAnchorScriptSelectsTheSameCases(String selection) throws Exception {
        List<String> python = python("--list-cases", "--cases", selection);
        assertEquals(ids(TwoFourGemmSweep.select(selection)), python);
    }

    @Test
    void theAnchorScriptRejectsWhatJavaRejects() throws Exception {
        Assumptions.assumeTrue(pythonAvailable(), "python3 is not installed");
        Process process = pythonProcess("--list-cases", "--cases", "headline,lamma");
        assertEquals(2, process.waitFor()); // argparse's usage error
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(stderr.contains("'lamma' matches no case"), stderr);
    }

    @Test
    void theAnchorScriptCompiles() throws Exception {
        List<String> out = python("-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2],"
                + " doraise=True); print('compiled')", SCRIPT.toString(),
                Files.createTempDirectory("pyc").resolve("anchor.pyc").toString());
        assertEquals(List.of("compiled"), out);
    }

    static boolean pythonAvailable() {
        try {
            return new ProcessBuilder("python3", "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** python3 on the anchor script with {@code args}, or on {@code -c CODE ARGS...}; the script's folder is importable. */
    static Process pythonProcess(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("python3", "-B"));
        if (!args[0].equals("-c")) {
            command.add(SCRIPT.toString());
        }
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("LACUNA_TWO_FOUR_GEMM_CASES");
        builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        builder.environment().put("PYTHONPATH", SCRIPT.getParent().toAbsolutePath().toString());
        return builder.start();
    }

    /** Runs python3 (skipping the test where there is none) and returns its standard output's lines. */
    static List<String> python(String... args) throws Exception {
        Assumptions.assumeTrue(pythonAvailable(), "python3 is not installed");
        assertTrue(Files.isRegularFile(SCRIPT), SCRIPT.toAbsolutePath() + " is missing");
        Process process = pythonProcess(args);
        process.getOutputStream().close();
        String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "python3 did not finish");
        assertEquals(0, process.exitValue(), stderr);
        assertFalse(stdout.isBlank(), stderr);
        return stdout.lines().toList();
    }
}

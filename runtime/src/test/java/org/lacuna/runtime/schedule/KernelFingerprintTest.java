package org.lacuna.runtime.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernels' fingerprint ({@code codegen/.../KernelFingerprint.java}, run by Maven at generate-sources) run again as
 * Maven runs it: on this checkout it gives the fingerprint this build compiled; on a tree of its own it moves when a
 * kernel source changes and only then.
 */
class KernelFingerprintTest {
    /** The surefire working directory is the module's folder; the repository root is its parent. */
    private static final Path ROOT = Path.of("..");
    private static final Path GENERATOR = ROOT.resolve("codegen/src/org/lacuna/codegen/KernelFingerprint.java");
    private static final Pattern CONSTANT = Pattern.compile("FINGERPRINT = \"([0-9a-f]{16})\"");

    @Test
    void thisCheckoutGivesTheCompiledFingerprint(@TempDir Path out) throws Exception {
        assertEquals(KernelBuild.FINGERPRINT, generate(out, ROOT));
    }

    @Test
    void movesWithAKernelSourceAndNothingElse(@TempDir Path tree, @TempDir Path out) throws Exception {
        // The generator's folders (KernelFingerprint.SOURCES): it refuses a tree without one of them.
        for (String folder : List.of("cpu", "internal", "compile", "sparseconv", "gemm", "attention")) {
            write(tree.resolve("runtime/src/main/java/org/lacuna/runtime").resolve(folder).resolve("Source.java"),
                    "class Source {}");
        }
        write(tree.resolve("codegen/src/Generator.java"), "class Generator {}");
        Path kernel = tree.resolve("kernels/src/main/resources/org/lacuna/kernels/flash_attention.cu");
        write(kernel, "__global__ void attend() {}");
        Path elsewhere = tree.resolve("java-api/src/main/java/Layer.java");
        write(elsewhere, "class Layer {}");

        String first = generate(out, tree);
        assertEquals(first, generate(out, tree), "the same sources gave another fingerprint");
        write(elsewhere, "class Layer { int changed; }");
        assertEquals(first, generate(out, tree), "a source outside the kernels moved the fingerprint");
        write(kernel.resolveSibling(".flash_attention.cu.swp"), "an editor's swap file");
        write(kernel.resolveSibling("flash_attention.cu.orig"), "a merge's leftover");
        assertEquals(first, generate(out, tree), "a file that is not a source moved the fingerprint");
        write(kernel, "__global__ void attend() { /* tuned */ }");
        String second = generate(out, tree);
        assertNotEquals(first, second, "a changed kernel source kept the fingerprint");
        Files.move(kernel, kernel.resolveSibling("flash_attention_v2.cu"));
        assertNotEquals(second, generate(out, tree), "a renamed kernel source kept the fingerprint");
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** Runs the generator into {@code out} on {@code root} and reads the fingerprint it wrote. */
    private static String generate(Path out, Path root) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, GENERATOR.toString(), out.toString(), root.toString())
                .redirectErrorStream(true).start();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("the generator did not finish within 2 minutes");
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), output);
        String source = Files.readString(out.resolve("org/lacuna/runtime/schedule/KernelBuild.java"));
        Matcher m = CONSTANT.matcher(source);
        assertTrue(m.find(), source);
        return m.group(1);
    }
}

package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build-time generator of the unrolled microkernels ({@code codegen/}, run by Maven at generate-sources) run again
 * as Maven runs it, with the JDK's source launcher, but in another locale: its output must be the very sources this
 * build compiled, byte for byte (a locale that writes other digits, such as Arabic-Indic, would otherwise give javac
 * text it refuses), and a source left by an older generator must go.
 */
class MicrokernelGenerationTest {
    /** The surefire working directory is the module's folder; the generator sits beside it. */
    private static final Path GENERATOR = Path.of("..", "codegen", "src", "org", "lacuna", "codegen",
            "Microkernels.java");
    private static final Path COMPILED = Path.of("target", "generated-sources", "microkernels");

    @Test
    void regeneratesTheCompiledSourcesByteForByteInAnotherLocale(@TempDir Path out) throws Exception {
        Path stale = out.resolve("org/lacuna/runtime/cpu/kernels/DroppedTile.java");
        Files.createDirectories(stale.getParent());
        Files.writeString(stale, "class DroppedTile {}");

        Result run = generate(out, "runtime", "-Duser.language=ar", "-Duser.country=EG");

        assertEquals(0, run.exitCode(), run.output());
        Map<Path, String> compiled = sources(COMPILED);
        assertFalse(compiled.isEmpty(), "the build generated no microkernels under " + COMPILED.toAbsolutePath());
        Map<Path, String> regenerated = sources(out);
        assertEquals(compiled.keySet(), regenerated.keySet(), "regenerated files differ from those compiled");
        compiled.forEach((file, text) -> assertEquals(text, regenerated.get(file), file + " regenerated differs"));
        assertFalse(Files.exists(stale), "a source no emitter wrote was left in place");
        compiled.forEach((file, text) -> assertTrue(text.chars().noneMatch(c -> c >= 128 && Character.isDigit(c)),
                file + " holds digits other than ASCII ones"));
    }

    @Test
    void refusesAnUnknownSetAndWritesNothing(@TempDir Path out) throws Exception {
        Result run = generate(out, "kernels");

        assertNotEquals(0, run.exitCode());
        assertTrue(run.output().contains("unknown microkernel set 'kernels'"), run.output());
        assertEquals(Map.of(), sources(out));
    }

    private record Result(int exitCode, String output) {
    }

    private static Result generate(Path out, String set, String... jvmOptions) throws IOException,
            InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of(GENERATOR.toString(), out.toString(), set));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("the generator did not finish within 2 minutes");
        }
        return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(),
                StandardCharsets.UTF_8));
    }

    /** Every Java source under {@code root}, by its path relative to it. */
    private static Map<Path, String> sources(Path root) throws IOException {
        Map<Path, String> sources = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                sources.put(root.relativize(file), Files.readString(file, StandardCharsets.UTF_8));
            }
        }
        return sources;
    }
}

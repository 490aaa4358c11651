package org.lacuna.codegen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes the CPU microkernels whose register tiles must be straight-line code, at build time (generate-sources).
 *
 * <p>Why generated: C2 keeps a {@code FloatVector} in a register only when it is a local variable; an array of
 * vectors, a loop over accumulators or a holder object is boxed or spilled (measured 1.07-80x slower). So a 8x2
 * tile needs sixteen named accumulators and sixteen FMA lines, and every tile shape is the same few lines again with
 * other numbers. Written by hand, those shapes repeat in every kernel family; here each shape is one loop in one
 * emitter, and the Java the JIT compiles is exactly the unrolled code it needs (as BLIS, XNNPACK and the JDK's own
 * Vector API classes generate theirs).
 *
 * <p>Run by Maven (exec-maven-plugin, see the parent POM) with the JDK's source launcher:
 * {@code java codegen/src/org/lacuna/codegen/Microkernels.java <output folder> <set>}, where the set names the
 * module ({@code runtime} or {@code bench}). A file is rewritten only when its text changes, so an unchanged
 * generator leaves the compiler's incremental build alone.
 */
public final class Microkernels {
    private Microkernels() {
    }

    /** The generated classes of one module. */
    static List<GeneratedClass> set(String name) {
        return switch (name) {
            case "runtime" -> List.of(
                    new VectorTileGemmBlocks(),
                    new VectorSgemmTile(),
                    new VectorSparseRowTiles(),
                    new VectorTransposeTile(),
                    new VectorAttentionTiles());
            case "bench" -> List.of(new FmaChainLoop());
            default -> throw new IllegalArgumentException("unknown microkernel set '" + name + "' (runtime or bench)");
        };
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: Microkernels <output folder> <runtime|bench>");
        }
        Path out = Path.of(args[0]);
        Set<Path> written = new HashSet<>();
        for (GeneratedClass generated : set(args[1])) {
            Path file = out.resolve(generated.packageName().replace('.', '/')).resolve(generated.simpleName() + ".java");
            written.add(file);
            String text = generated.source();
            if (Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).equals(text)) {
                continue;
            }
            Files.createDirectories(file.getParent());
            Files.writeString(file, text, StandardCharsets.UTF_8);
        }
        removeStale(out, written);
    }

    /**
     * Deletes the sources in the output folder (this generator's alone) that no emitter wrote this time: a renamed
     * or dropped emitter's old class would otherwise stay compiled into the jar until {@code mvn clean}.
     */
    private static void removeStale(Path out, Set<Path> written) throws IOException {
        List<Path> stale;
        try (Stream<Path> files = Files.walk(out)) {
            stale = files.filter(f -> f.toString().endsWith(".java") && !written.contains(f)).toList();
        }
        for (Path file : stale) {
            Files.delete(file);
        }
    }
}

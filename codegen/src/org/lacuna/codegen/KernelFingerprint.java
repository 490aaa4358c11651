package org.lacuna.codegen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes {@code org.lacuna.runtime.schedule.KernelBuild}, whose constant names the kernels this build serves with: a
 * hash of the sources that decide their speed (the CPU backend and its kernels, the native bindings and the CUDA
 * backend, the {@code .cu} sources, and these generators, which write the CPU tiles). The tuning store keeps the
 * hash beside each device's efficiency table and choices: a store measured with other kernels is measured again,
 * where a version number bumped by hand would be forgotten (a faster Vector API GEMM went unchosen for a whole
 * session behind choices stored before it landed).
 *
 * <p>Run by Maven at generate-sources (runtime's POM), with the JDK's source launcher:
 * {@code java codegen/src/org/lacuna/codegen/KernelFingerprint.java <output folder> <repository root>}. Hashed at
 * build time, not at run time, as hashing ~200 files would cost a cold process milliseconds on its first choice.
 * The file is rewritten only when its text changes.
 */
public final class KernelFingerprint {
    /**
     * The folders hashed, relative to the repository root: the CPU backend and its kernels, the native bindings and
     * the CUDA backend, the NVRTC compile step (its options), the sparse-convolution maps and tile orders, the sparse
     * weight formats and token selection (which set the work the kernels are given), the {@code .cu} sources and
     * these generators.
     */
    static final List<String> SOURCES = List.of(
            "runtime/src/main/java/org/lacuna/runtime/cpu",
            "runtime/src/main/java/org/lacuna/runtime/internal",
            "runtime/src/main/java/org/lacuna/runtime/compile",
            "runtime/src/main/java/org/lacuna/runtime/sparseconv",
            "runtime/src/main/java/org/lacuna/runtime/gemm",
            "runtime/src/main/java/org/lacuna/runtime/attention",
            "kernels/src/main/resources/org/lacuna/kernels",
            "codegen/src");

    /**
     * The files of those folders that are hashed: sources, by their endings (and the kernels' {@code INDEX}), so an
     * editor's swap file or a merge's {@code .orig} beside them does not move the fingerprint.
     */
    static boolean hashed(Path file) {
        String name = file.getFileName().toString();
        return name.equals("INDEX") || name.endsWith(".java") || name.endsWith(".cu") || name.endsWith(".cuh")
                || name.endsWith(".h");
    }

    private KernelFingerprint() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: KernelFingerprint <output folder> <repository root>");
        }
        Path out = Path.of(args[0]);
        String text = source(fingerprint(Path.of(args[1])));
        Path file = out.resolve("org/lacuna/runtime/schedule/KernelBuild.java");
        if (Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).equals(text)) {
            return;
        }
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /**
     * SHA-256 over every {@link #hashed} file under {@link #SOURCES}, in the order of their paths relative to {@code root} (each path,
     * a zero byte, the file's bytes, a zero byte), its first 16 hex digits: the same sources give the same
     * fingerprint on every machine and checkout folder.
     */
    static String fingerprint(Path root) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
        for (String folder : SOURCES) {
            Path base = root.resolve(folder);
            if (!Files.isDirectory(base)) {
                throw new IOException("kernel sources not found: " + base);
            }
            List<Path> files;
            try (Stream<Path> walk = Files.walk(base)) {
                files = walk.filter(f -> Files.isRegularFile(f) && hashed(f))
                        .sorted(java.util.Comparator.comparing(p -> root.relativize(p).toString().replace('\\', '/')))
                        .toList();
            }
            for (Path f : files) {
                digest.update(root.relativize(f).toString().replace('\\', '/').getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                digest.update(Files.readAllBytes(f));
                digest.update((byte) 0);
            }
        }
        return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
    }

    static String source(String fingerprint) {
        return """
                package org.lacuna.runtime.schedule;

                /** Generated by codegen/src/org/lacuna/codegen/KernelFingerprint.java at build time: do not edit. */
                final class KernelBuild {
                    /** A hash of the sources that decide the kernels' speed; see the generator. */
                    static final String FINGERPRINT = "%s";

                    private KernelBuild() {
                    }
                }
                """.formatted(fingerprint);
    }
}

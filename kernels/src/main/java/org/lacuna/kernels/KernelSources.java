package org.lacuna.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA sources shipped in this module. {@code INDEX} lists every file: {@code .cu} files are kernels,
 * {@code .cuh} files are headers handed to NVRTC under their file name.
 */
public final class KernelSources {
    static final String FOLDER = "/org/lacuna/kernels/";
    static final String VARIANTS_MARKER = "// lacuna-variants:";
    static final String ARCHITECTURES_MARKER = "// lacuna-architectures:";

    private static final class Holder {
        static final KernelSources SHIPPED = load();
    }

    private final Map<String, KernelSource> kernels;
    private final Map<String, String> headers;

    private KernelSources(Map<String, KernelSource> kernels, Map<String, String> headers) {
        this.kernels = Collections.unmodifiableMap(kernels);
        this.headers = Collections.unmodifiableMap(headers);
    }

    /** The sources shipped in this jar, read once. */
    public static KernelSources shipped() {
        return Holder.SHIPPED;
    }

    public List<KernelSource> kernels() {
        return List.copyOf(kernels.values());
    }

    public KernelSource kernel(String fileName) {
        KernelSource source = kernels.get(fileName);
        if (source == null) {
            throw new IllegalArgumentException("no shipped kernel " + fileName + "; shipped: " + kernels.keySet());
        }
        return source;
    }

    /** Every shipped header by include name. */
    public Map<String, String> headers() {
        return headers;
    }

    public static List<String> index() {
        return read("INDEX").lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    private static KernelSources load() {
        Map<String, KernelSource> kernels = new LinkedHashMap<>();
        Map<String, String> headers = new LinkedHashMap<>();
        for (String name : index()) {
            String text = read(name);
            if (name.endsWith(".cuh")) {
                headers.put(name, text);
            } else if (name.endsWith(".cu")) {
                kernels.put(name, new KernelSource(name, text, parseVariants(name, text), parseArchitectures(text)));
            } else {
                throw new IllegalStateException("INDEX lists " + name + ", which is neither .cu nor .cuh");
            }
        }
        return new KernelSources(kernels, headers);
    }

    /** Parses {@code // lacuna-variants: A=x B=y | A=z}; a file without the line has one, empty, variant. */
    static List<Map<String, String>> parseVariants(String fileName, String text) {
        List<Map<String, String>> variants = new ArrayList<>();
        for (String line : text.lines().toList()) {
            String stripped = line.strip();
            if (!stripped.startsWith(VARIANTS_MARKER)) {
                continue;
            }
            for (String group : stripped.substring(VARIANTS_MARKER.length()).split("\\|")) {
                Map<String, String> constants = new LinkedHashMap<>();
                for (String assignment : group.trim().split("\\s+")) {
                    if (assignment.isEmpty()) {
                        continue;
                    }
                    int eq = assignment.indexOf('=');
                    if (eq <= 0 || eq == assignment.length() - 1) {
                        throw new IllegalStateException(fileName + ": malformed variant constant '" + assignment + "'");
                    }
                    constants.put(assignment.substring(0, eq), assignment.substring(eq + 1));
                }
                variants.add(Collections.unmodifiableMap(constants));
            }
        }
        if (variants.isEmpty()) {
            variants.add(Map.of());
        }
        return variants;
    }

    /** Parses {@code // lacuna-architectures: sm_90a sm_100a}; absent means every architecture. */
    static List<String> parseArchitectures(String text) {
        return text.lines().map(String::strip).filter(l -> l.startsWith(ARCHITECTURES_MARKER))
                .flatMap(l -> java.util.Arrays.stream(l.substring(ARCHITECTURES_MARKER.length()).trim().split("\\s+")))
                .filter(a -> !a.isEmpty()).toList();
    }

    private static String read(String name) {
        try (InputStream in = KernelSources.class.getResourceAsStream(FOLDER + name)) {
            if (in == null) {
                throw new IllegalStateException("kernel resource " + FOLDER + name + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel resource " + name, e);
        }
    }
}

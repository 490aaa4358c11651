package org.lacuna.api.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.lacuna.runtime.error.MalformedInputException;

/**
 * A model as sentence-transformers saves it, found from what a user points at: the ONNX file itself, or the model's
 * folder ({@code model.onnx}, {@code onnx/model.onnx} or its one {@code .onnx} file). Finding the files reads none of
 * them: the pooling is read only when asked for, so a caller that gives the pooling mode itself never depends on a
 * Pooling config Lacuna cannot honour ({@link #withMode}). Beside the ONNX file, or one folder up for the
 * {@code onnx/} layout, {@code modules.json} names the pipeline's modules: its {@code Pooling} module's
 * {@code config.json} (usually {@code 1_Pooling/config.json}) says mean, CLS or max pooling, and a {@code Normalize}
 * module asks for unit L2 norm. Without a {@code modules.json}, a {@code 1_Pooling/config.json} alone still gives the
 * mode (normalised, as most models are, and said so); without either, the pooling is {@link Pooling#meanNormalized()},
 * also said so ({@link ConfiguredPooling#source()}).
 *
 * @param onnx the ONNX file
 * @param root the folder holding the sentence-transformers files (the ONNX file's, or its parent's)
 */
public record SentenceTransformersLayout(Path onnx, Path root) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String POOLING_TYPE = "sentence_transformers.models.Pooling";
    private static final String NORMALIZE_TYPE = "sentence_transformers.models.Normalize";

    /**
     * A pooling and where it came from.
     *
     * @param source where {@code pooling} came from, in words
     */
    public record ConfiguredPooling(Pooling pooling, String source) {
    }

    /** The layout of {@code model}, an ONNX file or a sentence-transformers folder: finds the files, reads none. */
    public static SentenceTransformersLayout of(Path model) {
        Path onnx = onnxFile(model);
        Path dir = onnx.toAbsolutePath().getParent();
        Path root = dir;
        if (!hasConfig(dir) && dir.getFileName() != null && dir.getFileName().toString().equals("onnx")
                && dir.getParent() != null && hasConfig(dir.getParent())) {
            root = dir.getParent();
        }
        return new SentenceTransformersLayout(onnx, root);
    }

    /**
     * The pooling the model's files ask for (read and checked now), or the default.
     *
     * @throws MalformedInputException naming the file whose pooling cannot be honoured (a mode other than mean, CLS
     *                                 or max, a modules.json without a Pooling module, unreadable JSON)
     */
    public ConfiguredPooling configuredPooling() {
        Path modules = modules();
        if (Files.isRegularFile(modules)) {
            return fromModules(modules);
        }
        Path poolingConfig = root.resolve("1_Pooling").resolve("config.json");
        if (Files.isRegularFile(poolingConfig)) {
            return new ConfiguredPooling(new Pooling(mode(poolingConfig), true),
                    poolingConfig + " (no modules.json: L2-normalised by default)");
        }
        return new ConfiguredPooling(Pooling.meanNormalized(),
                "default: mean + L2 normalise (no modules.json or 1_Pooling/config.json beside the model)");
    }

    /**
     * {@code mode} as the caller gives it, L2-normalised as the model's files say: where {@code modules.json} lists a
     * Normalize module, or where there is no {@code modules.json}. The Pooling config is not read, and modules.json
     * need not list a Pooling module.
     */
    public ConfiguredPooling withMode(Pooling.Mode mode) {
        String given = mode.name().toLowerCase(java.util.Locale.ROOT) + " given";
        Path modules = modules();
        if (!Files.isRegularFile(modules)) {
            return new ConfiguredPooling(new Pooling(mode, true), given + ", L2-normalised by default (no "
                    + "modules.json)");
        }
        boolean normalize = false;
        for (JsonNode module : moduleList(modules)) {
            normalize |= isType(module, NORMALIZE_TYPE);
        }
        return new ConfiguredPooling(new Pooling(mode, normalize), given + "; " + modules + normalization(normalize));
    }

    private Path modules() {
        return root.resolve("modules.json");
    }

    private static boolean hasConfig(Path dir) {
        return Files.isRegularFile(dir.resolve("modules.json"))
                || Files.isRegularFile(dir.resolve("1_Pooling").resolve("config.json"));
    }

    private static Path onnxFile(Path model) {
        if (!Files.isDirectory(model)) {
            return model; // a file (or a missing path: reading it names the problem)
        }
        for (Path candidate : List.of(model.resolve("model.onnx"), model.resolve("onnx").resolve("model.onnx"))) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(model)) {
            files.filter(p -> p.getFileName().toString().endsWith(".onnx") && Files.isRegularFile(p))
                    .forEach(found::add);
        } catch (IOException e) {
            throw new MalformedInputException(model.toString(), "the model folder cannot be listed: " + e, e);
        }
        if (found.size() != 1) {
            throw new MalformedInputException(model.toString(), found.isEmpty()
                    ? "no model.onnx, onnx/model.onnx or other .onnx file in this folder"
                    : found.size() + " .onnx files in this folder (" + found + "): pass the one to run");
        }
        return found.get(0);
    }

    private ConfiguredPooling fromModules(Path modules) {
        Path poolingConfig = null;
        boolean normalize = false;
        for (JsonNode module : moduleList(modules)) {
            if (isType(module, POOLING_TYPE)) {
                poolingConfig = root.resolve(module.path("path").asText("")).resolve("config.json");
            } else if (isType(module, NORMALIZE_TYPE)) {
                normalize = true;
            }
        }
        if (poolingConfig == null) {
            throw new MalformedInputException(modules.toString(), "modules.json lists no Pooling module: Lacuna "
                    + "embeds sentences through one (mean, CLS or max; or give the mode, e.g. embed --pooling mean)");
        }
        if (!Files.isRegularFile(poolingConfig)) {
            throw new MalformedInputException(poolingConfig.toString(), "modules.json names this Pooling config, "
                    + "which is missing");
        }
        return new ConfiguredPooling(new Pooling(mode(poolingConfig), normalize),
                poolingConfig + " and " + modules + normalization(normalize));
    }

    private static String normalization(boolean normalize) {
        return normalize ? " (Normalize module: L2 normalise)" : " (no Normalize module: not normalised)";
    }

    private static JsonNode moduleList(Path modules) {
        JsonNode list = read(modules);
        if (!list.isArray()) {
            throw new MalformedInputException(modules.toString(), "modules.json must be a list of modules");
        }
        return list;
    }

    /** Whether a modules.json entry is of {@code type} (or a subclass module of the same simple name). */
    private static boolean isType(JsonNode module, String type) {
        String name = module.path("type").asText("");
        return name.equals(type) || name.endsWith(type.substring(type.lastIndexOf('.')));
    }

    /** The one pooling mode a sentence-transformers Pooling config turns on; others are refused by name. */
    static Pooling.Mode mode(Path config) {
        JsonNode c = read(config);
        List<Pooling.Mode> modes = new ArrayList<>();
        List<String> unsupported = new ArrayList<>();
        if (c.path("pooling_mode_mean_tokens").asBoolean(false)) {
            modes.add(Pooling.Mode.MEAN);
        }
        if (c.path("pooling_mode_cls_token").asBoolean(false)) {
            modes.add(Pooling.Mode.CLS);
        }
        if (c.path("pooling_mode_max_tokens").asBoolean(false)) {
            modes.add(Pooling.Mode.MAX);
        }
        for (String other : List.of("pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                "pooling_mode_lasttoken")) {
            if (c.path(other).asBoolean(false)) {
                unsupported.add(other);
            }
        }
        if (!unsupported.isEmpty()) {
            throw new MalformedInputException(config.toString(), "pooling " + unsupported + " is not supported "
                    + "(Lacuna pools by mean, CLS or max: give one, e.g. embed --pooling mean)");
        }
        if (modes.size() != 1) {
            throw new MalformedInputException(config.toString(), modes.isEmpty()
                    ? "no pooling mode is turned on (pooling_mode_mean_tokens, _cls_token or _max_tokens)"
                    : "several pooling modes are on at once " + modes + " (their concatenation is not supported)");
        }
        return modes.get(0);
    }

    private static JsonNode read(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new MalformedInputException(file.toString(), "not readable JSON: " + firstLine(e.getMessage()), e);
        }
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }

    /** The tokenizer beside the model: {@code tokenizer.json} in the ONNX file's folder or the layout's root. */
    public Optional<Path> tokenizer() {
        for (Path dir : List.of(onnx.toAbsolutePath().getParent(), root)) {
            Path candidate = dir.resolve("tokenizer.json");
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}

package org.lacuna.api.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.error.MalformedInputException;

/** A sentence-transformers model's folder gives its ONNX file, tokenizer and pooling, or a clear reason why not. */
class SentenceTransformersLayoutTest {
    @TempDir
    Path dir;

    private static final String MODULES = """
            [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
             {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}%s]
            """;
    private static final String NORMALIZE = ",\n {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\", "
            + "\"type\": \"sentence_transformers.models.Normalize\"}";

    private static String poolingConfig(String... on) {
        StringBuilder s = new StringBuilder("{\"word_embedding_dimension\": 384");
        for (String mode : new String[] {"cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens",
                "weightedmean_tokens", "lasttoken"}) {
            s.append(", \"pooling_mode_").append(mode).append("\": ").append(java.util.List.of(on).contains(mode));
        }
        return s.append(", \"include_prompt\": true}").toString();
    }

    private Path model(Path folder, String modules, String pooling) throws IOException {
        Files.createDirectories(folder.resolve("1_Pooling"));
        Path onnx = folder.resolve("model.onnx");
        Files.writeString(onnx, "not read here");
        if (modules != null) {
            Files.writeString(folder.resolve("modules.json"), modules);
        }
        if (pooling != null) {
            Files.writeString(folder.resolve("1_Pooling").resolve("config.json"), pooling);
        }
        return onnx;
    }

    @Test
    void modulesJsonAndThePoolingConfigGiveModeAndNormalisation() throws IOException {
        Path cls = model(dir.resolve("cls"), MODULES.formatted(NORMALIZE), poolingConfig("cls_token"));
        SentenceTransformersLayout.ConfiguredPooling a = SentenceTransformersLayout.of(cls).configuredPooling();
        assertEquals(new Pooling(Pooling.Mode.CLS, true), a.pooling());
        assertTrue(a.source().contains("Normalize module"), a.source());
        Path max = model(dir.resolve("max"), MODULES.formatted(""), poolingConfig("max_tokens"));
        SentenceTransformersLayout.ConfiguredPooling b = SentenceTransformersLayout.of(max).configuredPooling();
        assertEquals(new Pooling(Pooling.Mode.MAX, false), b.pooling());
        assertTrue(b.source().contains("not normalised"), b.source());
        // The folder itself finds model.onnx.
        assertEquals(max, SentenceTransformersLayout.of(dir.resolve("max")).onnx());
    }

    @Test
    void theOnnxSubfolderLayoutReadsItsParentsFiles() throws IOException {
        Path root = dir.resolve("st");
        model(root, MODULES.formatted(NORMALIZE), poolingConfig("mean_tokens"));
        Files.delete(root.resolve("model.onnx"));
        Files.createDirectories(root.resolve("onnx"));
        Path onnx = Files.writeString(root.resolve("onnx").resolve("model.onnx"), "x");
        Path tokenizer = Files.writeString(root.resolve("tokenizer.json"), "{}");
        for (Path given : new Path[] {root, onnx}) {
            SentenceTransformersLayout layout = SentenceTransformersLayout.of(given);
            assertEquals(onnx.toAbsolutePath(), layout.onnx().toAbsolutePath());
            assertEquals(root.toAbsolutePath(), layout.root().toAbsolutePath());
            assertEquals(Pooling.meanNormalized(), layout.configuredPooling().pooling());
            assertEquals(tokenizer.toAbsolutePath(), layout.tokenizer().orElseThrow().toAbsolutePath());
        }
    }

    @Test
    void withoutModulesJsonOrAnyConfigTheDefaultIsSaidPlainly() throws IOException {
        Path alone = model(dir.resolve("alone"), null, poolingConfig("cls_token"));
        SentenceTransformersLayout.ConfiguredPooling a = SentenceTransformersLayout.of(alone).configuredPooling();
        assertEquals(new Pooling(Pooling.Mode.CLS, true), a.pooling());
        assertTrue(a.source().contains("no modules.json"), a.source());
        Path bare = model(dir.resolve("bare"), null, null);
        SentenceTransformersLayout.ConfiguredPooling b = SentenceTransformersLayout.of(bare).configuredPooling();
        assertEquals(Pooling.meanNormalized(), b.pooling());
        assertTrue(b.source().startsWith("default: mean + L2 normalise"), b.source());
    }

    @Test
    void whatCannotBeHonouredIsRefusedNamingTheFile() throws IOException {
        String[][] cases = {
            {MODULES.formatted(""), poolingConfig("mean_sqrt_len_tokens"), "pooling_mode_mean_sqrt_len_tokens"},
            {MODULES.formatted(""), poolingConfig("lasttoken"), "pooling_mode_lasttoken"},
            {MODULES.formatted(""), poolingConfig("mean_tokens", "max_tokens"), "several pooling modes"},
            {MODULES.formatted(""), poolingConfig(), "no pooling mode"},
            {"[{\"idx\": 0, \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"}]",
                poolingConfig("mean_tokens"), "no Pooling module"},
            {"{\"not\": \"a list\"}", poolingConfig("mean_tokens"), "list of modules"},
            {MODULES.formatted(""), "{\"pooling_mode_mean_tokens\": tru", "not readable JSON"},
        };
        int i = 0;
        for (String[] c : cases) {
            Path onnx = model(dir.resolve("case" + i++), c[0], c[1]);
            SentenceTransformersLayout layout = SentenceTransformersLayout.of(onnx); // finding the files reads none
            assertEquals(onnx, layout.onnx());
            MalformedInputException e = assertThrows(MalformedInputException.class, layout::configuredPooling);
            assertTrue(e.getMessage().contains(c[2]), e.getMessage());
            assertTrue(e.getMessage().contains(onnx.getParent().getFileName().toString()), e.getMessage());
        }
        Path missingConfig = model(dir.resolve("missing"), MODULES.formatted(""), null);
        assertTrue(assertThrows(MalformedInputException.class,
                () -> SentenceTransformersLayout.of(missingConfig).configuredPooling()).getMessage().contains("missing"));
        Path two = Files.createDirectories(dir.resolve("two"));
        Files.writeString(two.resolve("a.onnx"), "x");
        Files.writeString(two.resolve("b.onnx"), "x");
        assertTrue(assertThrows(MalformedInputException.class, () -> SentenceTransformersLayout.of(two))
                .getMessage().contains("2 .onnx files"));
        Path none = Files.createDirectories(dir.resolve("none"));
        assertTrue(assertThrows(MalformedInputException.class, () -> SentenceTransformersLayout.of(none))
                .getMessage().contains("no model.onnx"));
    }

    /**
     * A mode the caller gives needs no Pooling config Lacuna can honour (weighted mean, last token, mean-sqrt-len, none
     * listed, a missing one): the normalisation alone is read, from modules.json's Normalize module.
     */
    @Test
    void aGivenModeReadsOnlyTheNormalisation() throws IOException {
        String noPoolingModule = "[{\"idx\": 0, \"path\": \"\", \"type\": "
                + "\"sentence_transformers.models.Transformer\"}%s]";
        String[][] cases = {
            {MODULES.formatted(""), poolingConfig("weightedmean_tokens"), "false"},
            {MODULES.formatted(NORMALIZE), poolingConfig("lasttoken"), "true"},
            {MODULES.formatted(""), poolingConfig("mean_sqrt_len_tokens"), "false"},
            {noPoolingModule.formatted(""), null, "false"},
            {noPoolingModule.formatted(NORMALIZE), null, "true"},
            {MODULES.formatted(NORMALIZE), null, "true"},
            {null, poolingConfig("lasttoken"), "true"},
        };
        int i = 0;
        for (String[] c : cases) {
            Path onnx = model(dir.resolve("given" + i++), c[0], c[1]);
            SentenceTransformersLayout layout = SentenceTransformersLayout.of(onnx);
            boolean normalize = Boolean.parseBoolean(c[2]);
            for (Pooling.Mode mode : Pooling.Mode.values()) {
                SentenceTransformersLayout.ConfiguredPooling given = layout.withMode(mode);
                assertEquals(new Pooling(mode, normalize), given.pooling(), "case " + (i - 1));
                assertTrue(given.source().startsWith(mode.name().toLowerCase(java.util.Locale.ROOT) + " given"),
                        given.source());
                assertTrue(given.source().contains(c[0] == null ? "no modules.json" : "modules.json"),
                        given.source());
            }
        }
        // modules.json is still read for its Normalize module: a malformed one is refused, naming it.
        Path broken = model(dir.resolve("broken"), "{\"not\": \"a list\"}", poolingConfig("lasttoken"));
        MalformedInputException e = assertThrows(MalformedInputException.class,
                () -> SentenceTransformersLayout.of(broken).withMode(Pooling.Mode.MEAN));
        assertTrue(e.getMessage().contains("modules.json") && e.getMessage().contains("list of modules"),
                e.getMessage());
    }

    @Test
    void maxPoolingTakesEachChannelsMaximumOverTheRealTokens() {
        // Two sentences of 2 and 1 tokens, hidden 3, then a padding row that must not count.
        float[] states = {1, -5, 2, 3, -1, -4, -7, 0.5f, 9, 100, 100, 100};
        assertArrayEquals(new float[] {3, -1, 2}, new Pooling(Pooling.Mode.MAX, false).pool(states, 0, 2, 3));
        assertArrayEquals(new float[] {-7, 0.5f, 9}, new Pooling(Pooling.Mode.MAX, false).pool(states, 2, 1, 3));
        float[] unit = new Pooling(Pooling.Mode.MAX, true).pool(states, 0, 2, 3);
        double norm = Math.sqrt(9 + 1 + 4);
        assertArrayEquals(new float[] {(float) (3 / norm), (float) (-1 / norm), (float) (2 / norm)}, unit, 1e-6f);
    }
}

package org.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.text.EmbeddingAgreement;
import org.lacuna.api.text.Pooling;
import org.lacuna.api.text.SentenceEmbedder;
import org.lacuna.runtime.backend.Backends;

class EmbedCommandTest {
    @TempDir
    Path dir;

    @Test
    void embedsWithTheBundledModelIntoNpyAndSaysWhatRan() throws Exception {
        Path npy = dir.resolve("e.npy");
        Path texts = dir.resolve("texts.txt");
        Files.writeString(texts, "A man is eating food.\n\nSomeone is eating.\n");
        String[] result = CliRun.run("embed", "--backend", "cpu", "--file", texts.toString(), "--format", "npy",
                "-o", npy.toString());
        assertEquals("0", result[0], result[2]);
        assertTrue(result[2].contains("2 text(s) with all-MiniLM-L6-v2 [6 layers, hidden 384, 12 heads × 32"),
                result[2]);
        assertTrue(result[2].contains("sentences/s"), result[2]);
        byte[] bytes = Files.readAllBytes(npy);
        String header = new String(bytes, 10, 118, StandardCharsets.US_ASCII);
        assertTrue(header.contains("'shape': (2, 384)"), header);
        assertEquals(128 + 2 * 384 * 4, bytes.length);
        ByteBuffer data = ByteBuffer.wrap(bytes, 128, 384 * 4).order(ByteOrder.LITTLE_ENDIAN);
        double norm = 0;
        for (int i = 0; i < 384; i++) {
            float v = data.getFloat();
            norm += v * v;
        }
        assertEquals(1.0, norm, 1e-4, "normalised embedding");
    }

    @Test
    void badInputExitsWithTwoAndSaysWhy() throws Exception {
        String[] missing = CliRun.run("embed", "--model", dir.resolve("none.onnx").toString(), "hello");
        assertEquals("2", missing[0]);
        assertTrue(missing[2].contains("no such ONNX file"), missing[2]);
        Path garbage = dir.resolve("garbage.onnx");
        Files.writeString(garbage, "not a model");
        String[] corrupt = CliRun.run("embed", "--model", garbage.toString(), "--tokenizer", garbage.toString(), "hello");
        assertEquals("2", corrupt[0]);
        assertTrue(corrupt[2].contains("garbage.onnx"), corrupt[2]);
        String[] noFile = CliRun.run("embed", "--file", dir.resolve("none.txt").toString());
        assertEquals("2", noFile[0]);
        assertTrue(noFile[2].contains("no such file"), noFile[2]);
    }

    /**
     * A sentence-transformers folder (onnx/model.onnx, tokenizer.json, modules.json without Normalize, CLS pooling):
     * embed follows its pooling and says where it came from; the embeddings equal the API's with that pooling given.
     */
    @Test
    void aSentenceTransformersFolderIsPooledAsItsConfigSays() throws Exception {
        Path root = sentenceTransformersFolder("st");
        Files.writeString(root.resolve("modules.json"), """
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]""");
        Files.createDirectories(root.resolve("1_Pooling"));
        Files.writeString(root.resolve("1_Pooling").resolve("config.json"), "{\"word_embedding_dimension\": 384, "
                + "\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": false}");
        Path out = dir.resolve("cls.jsonl");
        String text = "The licensee may copy and distribute the program.";
        String[] r = CliRun.run("embed", "--backend", "cpu", "--model", root.toString(), "-o", out.toString(), text);
        assertEquals("0", r[0], r[2]);
        assertTrue(r[2].contains("cls pooling") && !r[2].contains("L2 normalise"), r[2]);
        assertTrue(r[2].contains("pooling from") && r[2].contains("1_Pooling") && r[2].contains("not normalised"),
                r[2]);
        float[] got = vector(lines(new ObjectMapper(), Files.readString(out)).get(0).get("embedding"));
        float[] want;
        try (Session session = Lacuna.open("cpu", 0);
             SentenceEmbedder reference = SentenceEmbedder.open(session, root.resolve("onnx").resolve("model.onnx"),
                     root.resolve("tokenizer.json"), 0, new Pooling(Pooling.Mode.CLS, false))) {
            want = reference.embed(List.of(text), 1)[0];
        }
        assertArrayEquals(want, got, 1e-6f);
        double norm = 0;
        for (float v : got) {
            norm += v * v;
        }
        assertTrue(Math.abs(Math.sqrt(norm) - 1) > 1e-3, "not normalised: norm " + Math.sqrt(norm));
    }

    /**
     * A given --pooling neither reads nor checks the model's Pooling config (weighted mean here, which Lacuna cannot
     * honour; then a modules.json with no Pooling module at all), and normalisation still follows modules.json: off
     * without a Normalize module, on with one.
     */
    @Test
    void aGivenPoolingIgnoresThePoolingConfigAndKeepsTheModelsNormalisation() throws Exception {
        Path root = sentenceTransformersFolder("weighted");
        Path onnx = root.resolve("onnx").resolve("model.onnx");
        Files.writeString(root.resolve("modules.json"), """
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]""");
        Files.createDirectories(root.resolve("1_Pooling"));
        Files.writeString(root.resolve("1_Pooling").resolve("config.json"), "{\"word_embedding_dimension\": 384, "
                + "\"pooling_mode_weightedmean_tokens\": true}");
        String text = "The licensee may copy and distribute the program.";
        String[] refused = CliRun.run("embed", "--backend", "cpu", "--model", root.toString(), text);
        assertEquals("2", refused[0], "without --pooling the config is honoured or refused: " + refused[2]);
        assertTrue(refused[2].contains("pooling_mode_weightedmean_tokens"), refused[2]);

        Path out = dir.resolve("mean.jsonl");
        String[] r = CliRun.run("embed", "--backend", "cpu", "--model", root.toString(), "--pooling", "mean", "-o",
                out.toString(), text);
        assertEquals("0", r[0], r[2]);
        assertTrue(r[2].contains("mean pooling") && !r[2].contains("L2 normalise"), r[2]);
        assertTrue(r[2].contains("mean given") && r[2].contains("no Normalize module"), r[2]);
        float[] got = vector(lines(new ObjectMapper(), Files.readString(out)).get(0).get("embedding"));
        float[] want;
        try (Session session = Lacuna.open("cpu", 0);
             SentenceEmbedder reference = SentenceEmbedder.open(session, onnx, null, 0,
                     new Pooling(Pooling.Mode.MEAN, false))) {
            want = reference.embed(List.of(text), 1)[0];
        }
        assertArrayEquals(want, got, 1e-6f);
        assertTrue(Math.abs(norm(got) - 1) > 1e-3, "not normalised: norm " + norm(got));

        Files.writeString(root.resolve("modules.json"), """
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]""");
        String[] cls = CliRun.run("embed", "--backend", "cpu", "--model", root.toString(), "--pooling", "cls", "-o",
                out.toString(), text);
        assertEquals("0", cls[0], cls[2]);
        assertTrue(cls[2].contains("cls pooling + L2 normalise") && cls[2].contains("Normalize module"), cls[2]);
        assertEquals(1, norm(vector(lines(new ObjectMapper(), Files.readString(out)).get(0).get("embedding"))), 1e-4);
        String[] plain = CliRun.run("embed", "--backend", "cpu", "--model", root.toString(), "--pooling", "cls",
                "--no-normalize", "-o", out.toString(), text);
        assertEquals("0", plain[0], plain[2]);
        assertTrue(plain[2].contains("cls pooling,"), plain[2]);
    }

    /** onnx/model.onnx and tokenizer.json of the bundled model in a new folder {@code name}. */
    private Path sentenceTransformersFolder(String name) throws Exception {
        Path root = Files.createDirectories(dir.resolve(name).resolve("onnx")).getParent();
        ClassLoader loader = getClass().getClassLoader();
        try (var model = loader.getResourceAsStream(SentenceEmbedder.BUNDLED_MODEL);
             var tokenizer = loader.getResourceAsStream(SentenceEmbedder.BUNDLED_TOKENIZER)) {
            Files.copy(model, root.resolve("onnx").resolve("model.onnx"));
            Files.copy(tokenizer, root.resolve("tokenizer.json"));
        }
        return root;
    }

    private static double norm(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += x * x;
        }
        return Math.sqrt(sum);
    }

    @Test
    void sparseRunsReportTheirCosineToTheDenseRunAndTheSpeedUp() throws Exception {
        String[] texts = {"The licensee may copy and distribute the program.", "A man is eating food.",
                "Permission is hereby granted, free of charge, to any person obtaining a copy of this software."};
        Path denseOut = dir.resolve("dense.jsonl");
        Path sparseOut = dir.resolve("sparse.jsonl");
        String[] dense = CliRun.run(args(new String[] {"embed", "--backend", "cpu", "-o", denseOut.toString()}, texts));
        assertEquals("0", dense[0], dense[2]);
        assertFalse(dense[2].contains("speed-up"), "a dense run makes no comparison: " + dense[2]);
        String[] sparse = CliRun.run(args(new String[] {"embed", "--backend", "cpu", "--prune", "2:4=ffn", "--keep",
            "0.5", "--from-layer", "2", "--repeat", "1", "-o", sparseOut.toString()}, texts));
        assertEquals("0", sparse[0], sparse[2]);
        assertTrue(sparse[2].contains("2:4 ffn + keep 0.5 from layer 2 by CLS_ATTENTION"), sparse[2]);
        assertTrue(sparse[2].contains("vs dense: cosine mean") && sparse[2].contains("speed-up"), sparse[2]);

        ObjectMapper json = new ObjectMapper();
        List<JsonNode> denseLines = lines(json, Files.readString(denseOut));
        List<JsonNode> sparseLines = lines(json, Files.readString(sparseOut));
        assertEquals(texts.length, sparseLines.size());
        double worst = 1;
        for (int i = 0; i < texts.length; i++) {
            float[] d = vector(denseLines.get(i).get("embedding"));
            float[] p = vector(sparseLines.get(i).get("embedding"));
            double cosine = EmbeddingAgreement.cosine(d, p);
            // The reported cosine is the one between this run's sparse and a separate dense run's embeddings.
            assertEquals(cosine, sparseLines.get(i).get("cosine_to_dense").asDouble(), 1e-5, "text " + i);
            assertTrue(cosine > 0 && cosine < 1 + 1e-6, "text " + i + ": cosine " + cosine);
            worst = Math.min(worst, cosine);
        }
        assertTrue(worst < 0.99999, "pruning FFN weights to 2:4 changes the embeddings: " + worst);
        Matcher min = Pattern.compile("min (\\d\\.\\d+)").matcher(sparse[2]);
        assertTrue(min.find(), sparse[2]);
        assertEquals(worst, Double.parseDouble(min.group(1)), 1e-5, "the summary's min is the worst text's cosine");
    }

    @Test
    void keepAloneDropsFromTheMiddleLayerAndPruneAllNamesItself() throws Exception {
        Path out = dir.resolve("out.jsonl");
        String[] result = CliRun.run("embed", "--backend", "cpu", "--prune", "2:4=all", "--keep", "0.7",
                "--score", "received", "--no-compare", "-o", out.toString(), "Some text to embed here.");
        assertEquals("0", result[0], result[2]);
        assertTrue(result[2].contains("2:4 all + keep 0.7 from layer 3 by MEAN_ATTENTION_RECEIVED"), result[2]);
        assertFalse(result[2].contains("speed-up"), "--no-compare skips the dense run: " + result[2]);
        String written = Files.readString(out);
        assertTrue(written.contains("\"embedding\"") && !written.contains("cosine_to_dense"), written);
    }

    @Test
    void badSparsityValuesExitWithOneAndSayWhy() {
        assertBadInput("takes 2:4=ffn or 2:4=all", "--prune", "3:4=ffn");
        assertBadInput("keep ratio must be in (0, 1]", "--keep", "0");
        assertBadInput("keep ratio must be in (0, 1]", "--keep", "1.5");
        assertBadInput("--keep", "--keep", "half");
        assertBadInput("needs --keep", "--from-layer", "2");
        assertBadInput("layer 0 cannot rank tokens by CLS_ATTENTION", "--keep", "0.5", "--from-layer", "0");
        assertBadInput("the encoder has 6 layers", "--keep", "0.5", "--from-layer", "6");
        assertBadInput("--repeat must be positive", "--prune", "2:4=ffn", "--repeat", "0");
        assertBadInput("--score", "--keep", "0.5", "--score", "loudest");
    }

    @Test
    void anUnavailableBackendExitsWithThree() {
        assumeFalse(Backends.survey().stream().anyMatch(c -> c.provider().name().equals("cuda")
                && c.availability().available()), "needs a machine without CUDA");
        String[] result = CliRun.run("embed", "--backend", "cuda", "hello");
        assertEquals("3", result[0], result[2]);
        assertTrue(result[2].contains("cuda is unavailable"), result[2]);
    }

    private static void assertBadInput(String message, String... options) {
        String[] result = CliRun.run(args("embed", "--backend", "cpu", args(options, "One sentence.")));
        assertEquals("1", result[0], String.join(" ", options) + ": " + result[2]);
        assertTrue(result[2].contains(message), String.join(" ", options) + ": " + result[2]);
    }

    private static String[] args(String first, String second, String third, String... rest) {
        return args(new String[] {first, second, third}, rest);
    }

    private static String[] args(String[] head, String... rest) {
        String[] all = Arrays.copyOf(head, head.length + rest.length);
        System.arraycopy(rest, 0, all, head.length, rest.length);
        return all;
    }

    private static List<JsonNode> lines(ObjectMapper json, String output) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : output.strip().split("\n")) {
            out.add(json.readTree(line));
        }
        return out;
    }

    private static float[] vector(JsonNode array) {
        float[] v = new float[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) array.get(i).asDouble();
        }
        return v;
    }
}

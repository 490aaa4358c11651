package org.lacuna.api.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.text.SentenceEmbedder;
import org.lacuna.api.text.TokenBatch;
import org.lacuna.api.text.EmbeddingAgreement;

/**
 * all-MiniLM-L6-v2 (the langchain4j jar on the test class path) on real sentences — the first paragraphs of the
 * licence texts the OS ships — by Lacuna and by ONNX Runtime on the same token ids: cosine ≥ 0.9999 per sentence.
 */
class MiniLmAgainstOnnxRuntimeTest {
    private static final Path LICENSES = Path.of("/usr/share/common-licenses");
    // Paragraphs compared: enough real text for a per-sentence check, few enough to keep the test short.
    private static final int SENTENCES = 16;

    @Test
    void matchesOnnxRuntimeOnLicenceParagraphs() throws Exception {
        List<String> paragraphs = licenceParagraphs(SENTENCES);
        assumeTrue(paragraphs.size() == SENTENCES, "needs " + SENTENCES + " paragraphs under " + LICENSES);
        try (Session session = Lacuna.open("cpu", 0); SentenceEmbedder embedder = SentenceEmbedder.bundled(session, 0)) {
            TokenBatch batch = embedder.tokenize(paragraphs);
            long start = System.nanoTime();
            float[][] ours = embedder.embed(batch);
            double lacunaSeconds = (System.nanoTime() - start) / 1e9;
            byte[] onnx;
            try (InputStream in = getClass().getClassLoader().getResourceAsStream(SentenceEmbedder.BUNDLED_MODEL)) {
                onnx = in.readAllBytes();
            }
            try (OrtReference ort = new OrtReference(onnx, embedder.encoder().model())) {
                ort.embed(batch.slice(0, 1), embedder.pooling()); // warm-up
                start = System.nanoTime();
                float[][] reference = ort.embed(batch, embedder.pooling());
                double ortSeconds = (System.nanoTime() - start) / 1e9;
                double min = 1;
                double sum = 0;
                for (int b = 0; b < batch.count(); b++) {
                    double cosine = EmbeddingAgreement.cosine(ours[b], reference[b]);
                    assertTrue(cosine >= 0.9999, "sentence " + b + " (" + batch.lengths()[b] + " tokens): cosine "
                            + cosine);
                    min = Math.min(min, cosine);
                    sum += cosine;
                }
                System.out.printf("all-MiniLM-L6-v2 vs ONNX Runtime on %d licence paragraphs (%d tokens): cosine "
                                + "min %.7f mean %.7f; Lacuna cpu %.1f sentences/s, ORT %.1f sentences/s (one run)%n",
                        batch.count(), batch.tokens(), min, sum / batch.count(), batch.count() / lacunaSeconds,
                        batch.count() / ortSeconds);
            }
        }
    }

    /** Hugging Face's tokenizer gives bert-base-uncased's well-known ids, [CLS]/[SEP] added, accents stripped. */
    @Test
    void tokenIdsAreBertUncasedVocabularyIds() {
        try (Session session = Lacuna.open("cpu-reference", 0);
             SentenceEmbedder embedder = SentenceEmbedder.bundled(session, 0)) {
            TokenBatch batch = embedder.tokenize(List.of("Hello, World! naïve café", "unaffable"));
            assertArrayEquals(new int[] {101, 7592, 1010, 2088, 999, 15743, 7668, 102}, batch.ids(0));
            assertArrayEquals(new int[] {101, 14477, 20961, 3468, 102}, batch.ids(1));
            assertEquals(128, embedder.tokenizer().maxLength());
            String longText = "word ".repeat(500);
            assertEquals(128, embedder.tokenize(List.of(longText)).tokens());
        }
    }

    static List<String> licenceParagraphs(int count) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(LICENSES)) {
            return out;
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(LICENSES)) {
            files = list.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path file : files) {
            for (String paragraph : Files.readString(file).split("\\n\\s*\\n")) {
                String text = paragraph.strip().replaceAll("\\s+", " ");
                if (text.length() >= 40) {
                    out.add(text);
                    if (out.size() == count) {
                        return out;
                    }
                }
            }
        }
        return out;
    }
}

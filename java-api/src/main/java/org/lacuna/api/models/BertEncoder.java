package org.lacuna.api.models;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.layers.Sequences;
import org.lacuna.api.layers.TokenEmbeddings;
import org.lacuna.api.layers.TransformerEncoder;
import org.lacuna.api.layers.TransformerEncoderLayer;
import org.lacuna.api.onnx.OnnxEncoder;
import org.lacuna.api.text.Pooling;
import org.lacuna.api.text.TokenBatch;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.lifetime.Closer;

/**
 * A BERT-family encoder on a Lacuna session: {@link TokenEmbeddings}, then a {@link TransformerEncoder} of post-norm
 * layers, over ragged batches of token sequences. Built from an {@link OnnxEncoder} (weights read from an ONNX
 * file); activations, weights and attention in F16 with fp32 accumulation. Runs dense, or as
 * {@link EncoderSparsity} says: linear layers pruned to 2:4 at load, token dropping from a chosen layer on, or both.
 * Owned by its session.
 */
public final class BertEncoder implements AutoCloseable {
    private final Session session;
    private final OnnxEncoder.Summary model;
    private final TokenEmbeddings embeddings;
    private final TransformerEncoder encoder;
    private final EncoderSparsity sparsity;

    private BertEncoder(Session session, OnnxEncoder.Summary model, TokenEmbeddings embeddings, TransformerEncoder encoder,
                        EncoderSparsity sparsity) {
        this.session = session;
        this.model = model;
        this.embeddings = embeddings;
        this.encoder = encoder;
        this.sparsity = sparsity;
    }

    /** The dense encoder. */
    public static BertEncoder create(Session session, OnnxEncoder model) {
        return create(session, model, EncoderSparsity.DENSE);
    }

    /** The encoder with {@code sparsity}'s 2:4 pruning (done here, at load) and token dropping. */
    public static BertEncoder create(Session session, OnnxEncoder model, EncoderSparsity sparsity) {
        if (sparsity == null) {
            throw InvalidInputException.argument("BertEncoder.create", "sparsity is required (EncoderSparsity.DENSE)");
        }
        sparsity.requireFits(model.layers().size());
        DType dtype = DType.F16;
        TokenEmbeddings embeddings = TokenEmbeddings.create(session, model.hidden(), model.wordEmbeddings(),
                model.positionEmbeddings(), model.typeEmbeddings(), model.embeddingGamma(), model.embeddingBeta(),
                model.embeddingEpsilon(), dtype);
        try {
            List<TransformerEncoderLayer.Config> configs = new ArrayList<>();
            List<TransformerEncoderLayer.Weights> weights = new ArrayList<>();
            for (int i = 0; i < model.layers().size(); i++) {
                OnnxEncoder.Layer layer = model.layers().get(i);
                configs.add(TransformerEncoderLayer.Config.of(model.hidden(), model.heads(), layer.ffnHidden(), dtype)
                        .withLayerNormEpsilon(layer.epsilon()).withPostNorm().withTwoFour(sparsity.twoFour())
                        .withTokenDropping(sparsity.droppingAt(i)));
                weights.add(layer.weights());
            }
            TransformerEncoder encoder = TransformerEncoder.create(session, configs, weights);
            return session.own(new BertEncoder(session, model.summary(), embeddings, encoder, sparsity));
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, embeddings);
        }
    }

    /** The last hidden state, [tokens, hidden] of the encoder's dtype, sequence after sequence. */
    public Tensor forward(TokenBatch batch) {
        try (Sequences sequences = Sequences.of(session, batch.lengths());
             Tensor x = embeddings.forward(batch.ids(), batch.typeIds(), sequences)) {
            return encoder.forward(x, sequences);
        }
    }

    /** One pooled embedding per sequence of the batch. */
    public float[][] embed(TokenBatch batch, Pooling pooling) {
        if (batch.count() == 0) {
            throw InvalidInputException.argument("BertEncoder.embed", "no sequences to embed");
        }
        float[] states;
        try (Tensor hidden = forward(batch)) {
            states = hidden.toFloatArray();
        }
        float[][] out = new float[batch.count()][];
        int offset = 0;
        for (int b = 0; b < batch.count(); b++) {
            out[b] = pooling.pool(states, offset, batch.lengths()[b], model.hidden());
            offset += batch.lengths()[b];
        }
        return out;
    }

    /** The sizes and input names of the model this encoder was built from. */
    public OnnxEncoder.Summary model() {
        return model;
    }

    /** The pruning and token dropping this encoder runs with. */
    public EncoderSparsity sparsity() {
        return sparsity;
    }

    public TransformerEncoder encoder() {
        return encoder;
    }

    @Override
    public void close() {
        Closer.closeAll("BertEncoder", encoder, embeddings);
    }
}

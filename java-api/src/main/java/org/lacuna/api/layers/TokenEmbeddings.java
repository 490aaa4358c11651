package org.lacuna.api.layers;

import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.lifetime.Closer;

/**
 * BERT's input embeddings: {@code LayerNorm(word[id] + position[p] + type[t])} for each token of a ragged batch,
 * positions counted from 0 within each sequence. The lookups are a gather of a few hundred floats a token, so they run
 * on the host in fp32 from the tables held there (the word table is the model's largest tensor and never needs to
 * reach the device); one [tokens, hidden] upload then feeds the backend's LayerNorm, whose output has the encoder's
 * dtype.
 */
public final class TokenEmbeddings implements AutoCloseable {
    private final Session session;
    private final float[] words;
    private final float[] positions;
    private final float[] types;
    private final int vocabulary;
    private final int maxPositions;
    private final int typeCount;
    private final int hidden;
    private final LayerNorm norm;
    private final DType dtype;

    private TokenEmbeddings(Session session, float[] words, float[] positions, float[] types, int hidden,
                            LayerNorm norm, DType dtype) {
        this.session = session;
        this.words = words;
        this.positions = positions;
        this.types = types;
        this.hidden = hidden;
        this.vocabulary = words.length / hidden;
        this.maxPositions = positions.length / hidden;
        this.typeCount = types == null ? 0 : types.length / hidden;
        this.norm = norm;
        this.dtype = dtype;
    }

    /**
     * @param words     [vocabulary, hidden]
     * @param positions [max positions, hidden]
     * @param types     [token types, hidden], or null for a model without token types
     * @param dtype     the output's dtype (the encoder's)
     */
    public static TokenEmbeddings create(Session session, int hidden, float[] words, float[] positions, float[] types,
                                         float[] gamma, float[] beta, double epsilon, DType dtype) {
        String call = "TokenEmbeddings.create";
        if (hidden <= 0 || words == null || words.length == 0 || words.length % hidden != 0 || positions == null
                || positions.length == 0 || positions.length % hidden != 0
                || (types != null && (types.length == 0 || types.length % hidden != 0))) {
            throw InvalidInputException.shape(call, "the tables must be [rows, " + hidden + "] with at least one row");
        }
        if (gamma == null || gamma.length != hidden) {
            throw InvalidInputException.shape(call, "the LayerNorm gamma must have " + hidden + " values");
        }
        LayerNorm norm = LayerNorm.create(session, gamma, beta, epsilon);
        try {
            return session.own(new TokenEmbeddings(session, words, positions, types, hidden, norm, dtype));
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, norm);
        }
    }

    /**
     * The embeddings of the concatenated sequences: a new tensor [tokens, hidden] of the encoder's dtype.
     *
     * @param ids     token ids, sequence after sequence
     * @param typeIds token types of the same tokens, or null for all 0
     */
    public Tensor forward(int[] ids, int[] typeIds, Sequences sequences) {
        String call = "TokenEmbeddings.forward";
        if (ids.length != sequences.tokens() || (typeIds != null && typeIds.length != ids.length)) {
            throw InvalidInputException.shape(call, ids.length + " ids" + (typeIds == null ? "" : " and "
                    + typeIds.length + " token types") + " for " + sequences.tokens() + " tokens");
        }
        if (sequences.maxLength() > maxPositions) {
            throw InvalidInputException.argument(call, "a sequence of " + sequences.maxLength()
                    + " tokens is longer than the model's " + maxPositions + " positions");
        }
        if ((long) ids.length * hidden > Integer.MAX_VALUE - 8) {
            throw InvalidInputException.argument(call, ids.length + " tokens of width " + hidden
                    + " are more than one batch holds (at most " + (Integer.MAX_VALUE - 8) / hidden + " tokens)");
        }
        float[] sum = new float[ids.length * hidden];
        int token = 0;
        for (int length : sequences.lengths()) {
            for (int p = 0; p < length; p++, token++) {
                int id = ids[token];
                if (id < 0 || id >= vocabulary) {
                    throw InvalidInputException.argument(call, "token id " + id + " at " + token
                            + " is outside the vocabulary of " + vocabulary);
                }
                int type = typeIds == null ? 0 : typeIds[token];
                if (type != 0 && (type < 0 || type >= typeCount)) {
                    throw InvalidInputException.argument(call, "token type " + type + " at " + token
                            + " is outside the model's " + typeCount + " types");
                }
                int out = token * hidden;
                for (int c = 0; c < hidden; c++) {
                    float v = words[id * hidden + c] + (types == null ? 0f : types[type * hidden + c]);
                    sum[out + c] = v + positions[p * hidden + c];
                }
            }
        }
        try (Tensor raw = session.fromFloats(sum, DType.F32, ids.length, hidden)) {
            return norm.forward(raw, dtype);
        }
    }

    public int hidden() {
        return hidden;
    }

    public int maxPositions() {
        return maxPositions;
    }

    public int vocabulary() {
        return vocabulary;
    }

    @Override
    public void close() {
        norm.close();
    }
}

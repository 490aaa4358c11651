package org.lacuna.api.layers;

import org.lacuna.api.Scope;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.AttentionOps;

/**
 * Multi-head self-attention over a ragged batch: a fused QKV projection ({@link Linear} [3·hidden, hidden], its
 * output the packed Q|K|V rows the kernel reads in place), flash attention per sequence, and the output projection
 * ({@link Linear} [hidden, hidden]). Both projections pick their kernel as {@link Linear} does, the 2:4 one included.
 * Optionally also returns the attention each token received ({@link KeyScore}), the next layer's token scores.
 */
public final class MultiHeadAttention implements AutoCloseable {
    private final Session session;
    private final Linear qkv;
    private final Linear projection;
    private final AttentionOptions options;
    private final ClosedFlag closed = new ClosedFlag();

    /** The attention's output and, when asked for, the attention each token received (F32 [rows]). */
    public record Output(Tensor hidden, Tensor keyScores) {
    }

    private MultiHeadAttention(Session session, Linear qkv, Linear projection, AttentionOptions options) {
        this.session = session;
        this.qkv = qkv;
        this.projection = projection;
        this.options = options;
    }

    /**
     * @param qkvWeight  [3·hidden, hidden], Q rows then K rows then V rows, each head-major (PyTorch's in_proj_weight)
     * @param qkvBias    [3·hidden] or null
     * @param projWeight [hidden, hidden]
     * @param projBias   [hidden] or null
     * @param linear     dtype (F16 or BF16: the attention kernels are 16-bit) and kernel choice of both projections
     */
    public static MultiHeadAttention create(Session session, int hidden, AttentionOptions options, float[] qkvWeight,
                                            float[] qkvBias, float[] projWeight, float[] projBias, Linear.Options linear) {
        String call = "MultiHeadAttention.create";
        if (options.width() != hidden) {
            throw InvalidInputException.shape(call, options.heads() + " heads of " + options.headDim()
                    + " do not make a hidden size of " + hidden);
        }
        if (linear.dtype() != DType.F16 && linear.dtype() != DType.BF16) {
            throw InvalidInputException.dtype(call, "attention runs in F16 or BF16, not " + linear.dtype());
        }
        if (linear.outputType() != linear.dtype()) {
            throw InvalidInputException.dtype(call, "the projections must output their input type " + linear.dtype());
        }
        Linear q = Linear.create(session, qkvWeight, 3 * hidden, hidden, qkvBias, linear);
        try {
            Linear p = Linear.create(session, projWeight, hidden, hidden, projBias, linear);
            return session.own(new MultiHeadAttention(session, q, p, options));
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, q);
        }
    }

    /** Names the projections after the attention's name in its model: {@code <name>.qkv} and {@code <name>.out}. */
    public MultiHeadAttention named(String layerName) {
        qkv.named(layerName + ".qkv");
        projection.named(layerName + ".out");
        return this;
    }

    /**
     * Attention over each sequence of {@code batch} for x [batch.rows(), hidden]: a new tensor of the same shape.
     *
     * @param emit the received-attention scores to return as well, or null
     */
    public Output forward(Tensor x, SequenceBatch batch, KeyScore emit) {
        String call = "MultiHeadAttention.forward";
        if (closed.isClosed()) {
            throw new ResourceClosedException(call, "attention layer");
        }
        if (x.session() != session) {
            throw InvalidInputException.argument(call, "the input belongs to another session");
        }
        AttentionOps ops = session.backend().ops().attention();
        long rows = batch.rows();
        try (Scope scope = session.scope()) {
            Tensor packed = qkv.forward(x);
            Tensor out = session.empty(x.dtype(), rows, options.width());
            AttentionInputs inputs = AttentionInputs.packed(packed.array(call));
            Tensor lse = null;
            Tensor scores = null;
            if (emit != null) {
                lse = session.empty(DType.F32, options.heads(), rows);
                scores = session.empty(DType.F32, rows);
            }
            ops.attention(inputs, batch, options, out.array(call), lse == null ? null : lse.array(call));
            if (emit != null) {
                ops.keyAttention(inputs, batch, options, lse.array(call), emit, scores.array(call));
            }
            Tensor hidden = projection.forward(out);
            return new Output(scope.keep(hidden), scores == null ? null : scope.keep(scores));
        }
    }

    public AttentionOptions options() {
        return options;
    }

    /** The QKV projection, to see which kernel serves it. */
    public Linear qkvProjection() {
        return qkv;
    }

    public Linear outputProjection() {
        return projection;
    }

    @Override
    public void close() {
        if (closed.markClosed()) {
            Closer.closeAll("MultiHeadAttention", qkv, projection);
        }
    }
}

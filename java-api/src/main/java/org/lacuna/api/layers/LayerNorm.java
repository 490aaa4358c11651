package org.lacuna.api.layers;

import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.ElementwiseOps;

/**
 * {@code y = (x − mean) / sqrt(var + epsilon) · gamma + beta} over the last dimension, as PyTorch's LayerNorm
 * (biased variance, fp32 statistics). Output in the input's dtype.
 */
public final class LayerNorm implements AutoCloseable {
    private final Session session;
    private final Tensor gamma;
    private final Tensor beta;
    private final double epsilon;
    private final ClosedFlag closed = new ClosedFlag();

    private LayerNorm(Session session, Tensor gamma, Tensor beta, double epsilon) {
        this.session = session;
        this.gamma = gamma;
        this.beta = beta;
        this.epsilon = epsilon;
    }

    /** @param beta null for none */
    public static LayerNorm create(Session session, float[] gamma, float[] beta, double epsilon) {
        String call = "LayerNorm.create";
        if (gamma == null || gamma.length == 0) {
            throw InvalidInputException.shape(call, "gamma needs at least one feature");
        }
        if (beta != null && beta.length != gamma.length) {
            throw InvalidInputException.shape(call, "beta has " + beta.length + " values, gamma " + gamma.length);
        }
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
            throw InvalidInputException.argument(call, "epsilon must be positive and finite, got " + epsilon);
        }
        Tensor g = session.fromFloats(gamma, DType.F32, gamma.length);
        try {
            Tensor b = beta == null ? null : session.fromFloats(beta, DType.F32, beta.length);
            return session.own(new LayerNorm(session, g, b, epsilon));
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, g);
        }
    }

    /** The normalised x, a new tensor of x's shape and dtype. */
    public Tensor forward(Tensor x) {
        return forward(x, x == null ? null : x.dtype()); // a null x is refused there, by name
    }

    /** The normalised x, a new tensor of x's shape in {@code outType} (F32, F16 or BF16). */
    public Tensor forward(Tensor x, DType outType) {
        String call = "LayerNorm.forward";
        requireInput(call, "x", x);
        return normalised(call, x, outType, (ops, gammas, betas, y) ->
                ops.layerNorm(x.array(call), gammas, betas, epsilon, y));
    }

    /**
     * {@code LayerNorm(x + residual)}, a new tensor of x's shape and dtype: a post-norm block's residual add and norm
     * in one op (one pass over the activations where the backend fuses them).
     */
    public Tensor forwardResidual(Tensor x, Tensor residual) {
        String call = "LayerNorm.forwardResidual";
        requireInput(call, "x", x);
        requireInput(call, "residual", residual);
        return normalised(call, x, x.dtype(), (ops, gammas, betas, y) ->
                ops.residualLayerNorm(x.array(call), residual.array(call), gammas, betas, epsilon, y));
    }

    /**
     * The checks both forwards make of each input: the layer open, the input given, of this session and (for x and
     * a residual alike, as the op wants one shape) {@code features()} wide.
     */
    private void requireInput(String call, String name, Tensor input) {
        if (closed.isClosed()) {
            throw new ResourceClosedException(call, "layer norm");
        }
        if (input == null) {
            throw InvalidInputException.argument(call, name + " is null");
        }
        if (input.session() != session) {
            throw InvalidInputException.argument(call, name + " belongs to another session");
        }
        if (input.shape().rank() < 1 || input.shape().columns() != features()) {
            throw InvalidInputException.shape(call, name + " " + input.shape() + " must be [..., " + features() + "]");
        }
    }

    /** A new tensor of x's shape in {@code outType}, written by {@code norm}; closed again if the op fails. */
    private Tensor normalised(String call, Tensor x, DType outType, NormOp norm) {
        Tensor y = session.empty(outType, x.shape().dims());
        try {
            norm.run(session.backend().ops().elementwise(), gamma.array(call), beta == null ? null : beta.array(call),
                    y.array(call));
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** One of the backend's norm ops, given the layer's gamma, beta (null for none) and the output. */
    @FunctionalInterface
    private interface NormOp {
        void run(ElementwiseOps ops, DeviceArray gamma, DeviceArray beta, DeviceArray y);
    }

    /** The normalised width: gamma's length. */
    public int features() {
        return (int) gamma.shape().dim(0);
    }

    @Override
    public void close() {
        if (closed.markClosed()) {
            Closer.closeAll("LayerNorm", gamma, beta);
        }
    }
}

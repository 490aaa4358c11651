package org.lacuna.api.models;

import org.lacuna.api.Session;
import org.lacuna.api.layers.SparseBatchNorm;
import org.lacuna.api.layers.SparseConv3d;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.sparseconv.ConvGeometry;

/**
 * A bias-free sparse convolution followed by an inference-mode batch norm and optionally a ReLU, as one
 * {@link SparseConv3d} with the norm folded into its weights and the ReLU in its epilogue.
 *
 * <p>Parameters: {@code convKey} [volume, in, out] (see {@link ModelWeights#kernel} for the offset order; [in, out]
 * is also accepted for a 1×1×1 kernel, as TorchSparse stores it) and {@code bnPrefix}{@code .weight}, {@code .bias},
 * {@code .running_mean}, {@code .running_var} [out], ε = 1e-5.
 */
public final class ConvBn implements AutoCloseable {
    private final SparseConv3d conv;

    private ConvBn(SparseConv3d conv) {
        this.conv = conv;
    }

    public static ConvBn create(Session session, ModelWeights weights, String convKey, String bnPrefix,
                                ConvGeometry geometry, int in, int out, boolean relu, DType dtype) {
        float[] kernel = weights.kernel(convKey, geometry, in, out);
        SparseBatchNorm norm = batchNorm(weights, bnPrefix, out);
        SparseConv3d.Options options = SparseConv3d.Options.of(dtype)
                .withActivation(relu ? Activation.RELU : Activation.NONE);
        // Named after its module in the state dict (stage1.0.net.0, conv2.0.0): what plans and traces show.
        return session.own(new ConvBn(SparseConv3d.create(session, geometry, in, out, kernel, null, norm.foldable(),
                options).named(moduleName(convKey))));
    }

    /** {@code stage1.0.net.0.kernel} → {@code stage1.0.net.0}: the parameter key without its tensor's name. */
    static String moduleName(String parameterKey) {
        int dot = parameterKey.lastIndexOf('.');
        return dot > 0 ? parameterKey.substring(0, dot) : parameterKey;
    }

    /** The batch norm {@code prefix.weight/.bias/.running_mean/.running_var} of {@code channels}. */
    static SparseBatchNorm batchNorm(ModelWeights weights, String prefix, int channels) {
        long[] shape = {channels};
        float[] gamma = weights.take(prefix + ".weight", ModelWeights.Init.ONES, 0, shape);
        float[] beta = weights.take(prefix + ".bias", ModelWeights.Init.ZEROS, 0, shape);
        float[] mean = weights.take(prefix + ".running_mean", ModelWeights.Init.ZEROS, 0, shape);
        float[] variance = weights.take(prefix + ".running_var", ModelWeights.Init.ONES, 0, shape);
        return SparseBatchNorm.of(gamma, beta, mean, variance, SparseBatchNorm.DEFAULT_EPSILON);
    }

    public SparseTensor forward(SparseTensor x) {
        return conv.forward(x);
    }

    public SparseConv3d conv() {
        return conv;
    }

    @Override
    public void close() {
        conv.close();
    }

    @Override
    public String toString() {
        return "ConvBn[" + conv + "]";
    }
}

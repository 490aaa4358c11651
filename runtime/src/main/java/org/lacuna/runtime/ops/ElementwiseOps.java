package org.lacuna.runtime.ops;

import org.lacuna.runtime.data.DeviceArray;

/**
 * Elementwise and normalisation ops: bias + activation (ReLU included), casts, row reductions, residual add, layer
 * norm, inference batch norm and channel concatenation. Each reads its inputs, computes in fp32 (the reference in
 * double) and rounds once to the output type. Arguments are checked by {@link ElementwiseContracts} before any work
 * is issued; calls are asynchronous on GPU backends.
 */
public interface ElementwiseOps {
    /**
     * {@code y[r, c] = act(x[r, c] + bias[c])} over x viewed as a [rows, cols] matrix (cols = last dimension).
     *
     * @param bias F32 of shape [cols], or null for no bias
     * @param y    same shape as x; F32, F16 or BF16
     */
    void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y);

    /** {@code y = max(x, 0)}: {@link #biasActivation} without a bias. */
    default void relu(DeviceArray x, DeviceArray y) {
        biasActivation(x, null, Activation.RELU, y);
    }

    /** Converts between F32, F16 and BF16 (round to nearest even); x and y have the same shape. */
    void cast(DeviceArray x, DeviceArray y);

    /** One F32 value per row of x viewed as [rows, cols]; {@code out} has shape [rows]. */
    void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out);

    /** {@code y = a + b} element-wise in fp32, one rounding; all three of one shape and dtype; y may alias a or b. */
    void add(DeviceArray a, DeviceArray b, DeviceArray y);

    /**
     * {@code y = (x − mean) / sqrt(var + epsilon) · gamma + beta} over the last dimension (biased variance, as
     * PyTorch's LayerNorm), fp32 statistics.
     *
     * @param gamma F32 [cols]
     * @param beta  F32 [cols] or null
     * @param y     x's shape, F32, F16 or BF16
     */
    void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y);

    /**
     * {@code y = layerNorm(x + residual)}: a post-norm transformer block's residual add and the layer norm after it
     * in one op, so the sum never makes a round trip through memory (where a backend fuses them). The sum is taken in
     * fp32 (the reference in double) and normalised as {@link #layerNorm}; a backend that composes {@link #add} and
     * {@link #layerNorm} instead rounds the sum to the storage type in between, which for F16/BF16 costs up to one
     * rounding of the input more.
     *
     * @param residual x's shape and dtype
     * @param gamma    F32 [cols]
     * @param beta     F32 [cols] or null
     * @param y        x's shape and dtype; may be x or residual itself, but overlap neither partially
     */
    void residualLayerNorm(DeviceArray x, DeviceArray residual, DeviceArray gamma, DeviceArray beta, double epsilon,
                           DeviceArray y);

    /**
     * Inference batch norm over the last dimension (the channels): {@code y[r, c] = x[r, c] · scale[c] + shift[c]},
     * with scale = γ / √(σ² + ε) and shift = β − μ · scale folded from the running statistics beforehand.
     *
     * @param scale F32 [cols]
     * @param shift F32 [cols]
     * @param y     x's shape, F32, F16 or BF16; may be x itself
     */
    void batchNorm(DeviceArray x, DeviceArray scale, DeviceArray shift, DeviceArray y);

    /**
     * {@code y[r] = [a[r] | b[r]]}: the columns of b after those of a, row by row, copied bit for bit.
     *
     * @param a [rows, ca]
     * @param b [rows, cb] of a's dtype
     * @param y [rows, ca + cb] of a's dtype, overlapping neither input
     */
    void concatColumns(DeviceArray a, DeviceArray b, DeviceArray y);
}

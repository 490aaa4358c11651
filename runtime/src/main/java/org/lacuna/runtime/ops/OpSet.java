package org.lacuna.runtime.ops;

import org.lacuna.runtime.data.DeviceArray;

/**
 * The operations a backend runs. Every backend computes the same function; the CPU backend's implementation is the
 * reference the GPU tests compare with. Arguments are checked by {@link OpContracts} before any work is issued.
 * Calls are asynchronous on GPU backends: results are visible after a download or {@code synchronize()}.
 */
public interface OpSet {
    /**
     * {@code y[r, c] = act(x[r, c] + bias[c])} over x viewed as a [rows, cols] matrix (cols = last dimension).
     *
     * @param bias F32 of shape [cols], or null for no bias
     * @param y    same shape as x; F32, F16 or BF16
     */
    void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y);

    /** Converts between F32, F16 and BF16 (round to nearest even); x and y have the same shape. */
    void cast(DeviceArray x, DeviceArray y);

    /** One F32 value per row of x viewed as [rows, cols]; {@code out} has shape [rows]. */
    void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out);

    /**
     * {@code y = act(x · wᵀ + bias)} with a dense weight: x [tokens, in] (any rank, rows flattened), w [out, in] of
     * x's dtype, bias F32 [out] or null, y [tokens, out] F32, F16 or BF16. fp32 accumulation.
     */
    void linearDense(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y);

    /** As {@link #linearDense} with a 2:4 weight on the sparse tensor cores; x must have the weight's dtype. */
    void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation, DeviceArray y);

    /** As {@link #linearDense} with an unstructured CSR weight (cuSPARSE SpMM on the GPU). */
    void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y);

    /** Point-cloud sparse convolution. */
    ConvolutionOps convolution();

    /** Token-dropping attention and the transformer-block ops around it, on this backend. */
    AttentionOps attention();
}

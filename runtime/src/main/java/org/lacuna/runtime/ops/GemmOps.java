package org.lacuna.runtime.ops;

import org.lacuna.runtime.data.DeviceArray;

/**
 * Linear layers, {@code y = act(x · wᵀ + bias)}, with the weight in one of three storage formats: dense, 2:4
 * structured sparse (the sparse tensor cores on the GPU) and unstructured CSR (cuSPARSE SpMM on the GPU). fp32
 * accumulation everywhere. Arguments are checked by {@link GemmContracts} before any work is issued; calls are
 * asynchronous on GPU backends.
 */
public interface GemmOps {
    /**
     * {@code y = act(x · wᵀ + bias)} with a dense weight: x [tokens, in] (any rank, rows flattened), w [out, in] of
     * x's dtype, bias F32 [out] or null, y [tokens, out] F32, F16 or BF16.
     */
    void linearDense(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y);

    /** As {@link #linearDense} with a 2:4 weight on the sparse tensor cores; x must have the weight's dtype. */
    void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation, DeviceArray y);

    /** As {@link #linearDense} with an unstructured CSR weight. */
    void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y);
}

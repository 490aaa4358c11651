package org.lacuna.runtime.attention;

/**
 * Attention each key (token) of a sequence receives, averaged over heads, from the probabilities of an attention pass
 * ({@code AttentionOps.keyAttention}): with {@code P_h[i, j] = exp(scale · q_i·k_j − lse_h[i])},
 */
public enum KeyScore {
    /** {@code 1/H · Σ_h P_h[0, j]}: what the first (CLS) token attends to. Costs a sliver of an attention pass. */
    CLS,
    /** {@code 1/(H·L) · Σ_h Σ_i P_h[i, j]}: mean attention received. Recomputes Q Kᵀ: about half an attention pass. */
    MEAN_RECEIVED;

    /** The {@code MODE} constant of {@code key_attention.cu}. */
    public String kernelName() {
        return this == CLS ? "cls" : "mean";
    }
}

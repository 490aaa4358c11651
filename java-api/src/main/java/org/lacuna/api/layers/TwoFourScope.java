package org.lacuna.api.layers;

/**
 * Which linear layers of a transformer encoder layer are magnitude-pruned to 2:4 at load: none, the feed-forward
 * pair only (FC1, FC2: two thirds of the layer's weights in BERT's 4x FFN, and the ones pruning hurts least), or all
 * four (Q/K/V, the attention output projection, FC1, FC2).
 */
public enum TwoFourScope {
    NONE,
    FFN,
    ALL;

    /** Whether the feed-forward layers are pruned. */
    public boolean prunesFeedForward() {
        return this != NONE;
    }

    /** Whether the attention projections (Q/K/V and output) are pruned. */
    public boolean prunesAttention() {
        return this == ALL;
    }
}

package org.lacuna.runtime.attention;

import org.lacuna.runtime.error.InvalidInputException;

/**
 * The shape and flavour of a multi-head attention: {@code softmax(scale · q·kᵀ)} per head, optionally causal (a query
 * sees the keys at and before its own position in its sequence).
 *
 * @param headDim 32, 64 or 128: the head dimensions the kernels are built for (32 for MiniLM and bge-small)
 */
public record AttentionOptions(int heads, int headDim, boolean causal, double scale) {
    public AttentionOptions {
        if (heads <= 0) {
            throw InvalidInputException.argument("AttentionOptions", "heads must be positive, got " + heads);
        }
        if (headDim != 32 && headDim != 64 && headDim != 128) {
            throw InvalidInputException.argument("AttentionOptions", "head dim must be 32, 64 or 128, got " + headDim);
        }
        if (!(scale > 0.0) || Double.isInfinite(scale)) {
            throw InvalidInputException.argument("AttentionOptions", "scale must be positive and finite, got " + scale);
        }
    }

    /** Non-causal, scale {@code 1/sqrt(headDim)}. */
    public static AttentionOptions of(int heads, int headDim) {
        return new AttentionOptions(heads, headDim, false, 1.0 / Math.sqrt(headDim));
    }

    public AttentionOptions withCausal(boolean isCausal) {
        return new AttentionOptions(heads, headDim, isCausal, scale);
    }

    public AttentionOptions withScale(double newScale) {
        return new AttentionOptions(heads, headDim, causal, newScale);
    }

    /** {@code heads · headDim}: the width of Q, K, V and the output. */
    public int width() {
        return heads * headDim;
    }
}

package org.lacuna.runtime.attention;

/** Where the token scores a selection ranks by come from. */
public enum ScoreRule {
    /** The L2 norm of the token's hidden state ({@code OpSet.rowReduce} with {@code L2}). */
    L2_NORM,
    /** Attention the sequence's first (CLS) token paid the token in the previous layer, averaged over heads (EViT). */
    CLS_ATTENTION,
    /** Attention the token received in the previous layer, averaged over every query and head. */
    MEAN_ATTENTION_RECEIVED,
    /** Scores given by the caller (a learned predictor, say). */
    GIVEN;

    /** The side output of the previous layer's attention this rule needs, if any. */
    public java.util.Optional<KeyScore> keyScore() {
        return switch (this) {
            case CLS_ATTENTION -> java.util.Optional.of(KeyScore.CLS);
            case MEAN_ATTENTION_RECEIVED -> java.util.Optional.of(KeyScore.MEAN_RECEIVED);
            default -> java.util.Optional.empty();
        };
    }
}

package org.lacuna.api.layers;

import org.lacuna.runtime.attention.ScoreRule;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * How one encoder layer drops tokens: which it keeps ({@link SelectionRule}: a keep ratio or a score threshold, the
 * pinned prefix, tokens or windows) by which scores ({@link ScoreRule}). The layer runs on the kept tokens only; the
 * others leave it exactly as they entered.
 *
 * @param verifyScores wait for each selection and fail on NaN scores (a device round-trip a layer: for debugging)
 */
public record TokenDropping(SelectionRule rule, ScoreRule score, boolean verifyScores) {
    public TokenDropping {
        if (rule == null || score == null) {
            throw InvalidInputException.argument("TokenDropping", "rule and score are required");
        }
    }

    /** EViT's setting: keep {@code ratio} of each sequence by {@code score}, the first (CLS) token always. */
    public static TokenDropping keep(double ratio, ScoreRule score) {
        return new TokenDropping(SelectionRule.keepRatio(ratio).pinningPrefix(1), score, false);
    }

    public TokenDropping verifying() {
        return new TokenDropping(rule, score, true);
    }
}

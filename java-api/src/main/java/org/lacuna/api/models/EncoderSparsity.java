package org.lacuna.api.models;

import java.util.Locale;
import org.lacuna.api.layers.TokenDropping;
import org.lacuna.api.layers.TwoFourScope;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.attention.ScoreRule;

/**
 * How sparse a {@link BertEncoder} runs: which linear layers are magnitude-pruned to 2:4 at load
 * ({@link TwoFourScope}), and token dropping — from layer {@code fromLayer} (0-based) on, each layer keeps
 * {@code keepRatio} of each sentence's tokens (the first, [CLS], always) ranked by {@code score}; the tokens a layer
 * drops leave it as they entered, so mean pooling still sees every token. Both change the embeddings: measure the
 * cost (cosine to the dense result) before relying on them.
 *
 * @param keepRatio 1 for no token dropping, else in (0, 1)
 * @param fromLayer the first layer that drops tokens; with an attention-based score at least 1, since the scores
 *                  come from the layer before
 */
public record EncoderSparsity(TwoFourScope twoFour, double keepRatio, int fromLayer, ScoreRule score) {
    /** Every layer dense, every token kept. */
    public static final EncoderSparsity DENSE = new EncoderSparsity(TwoFourScope.NONE, 1.0, 0,
            ScoreRule.CLS_ATTENTION);

    public EncoderSparsity {
        String call = "EncoderSparsity";
        if (twoFour == null || score == null) {
            throw InvalidInputException.argument(call, "the 2:4 scope and the score rule are required");
        }
        if (!(keepRatio > 0 && keepRatio <= 1)) {
            throw InvalidInputException.argument(call, "keep ratio must be in (0, 1], got " + keepRatio);
        }
        if (fromLayer < 0) {
            throw InvalidInputException.argument(call, "the first dropping layer must not be negative, got "
                    + fromLayer);
        }
        if (score == ScoreRule.GIVEN) {
            throw InvalidInputException.argument(call, "an encoder cannot take caller-given scores; use CLS_ATTENTION,"
                    + " MEAN_ATTENTION_RECEIVED or L2_NORM");
        }
        if (keepRatio < 1 && fromLayer == 0 && score.keyScore().isPresent()) {
            throw InvalidInputException.argument(call, "layer 0 cannot rank tokens by " + score + ": that attention "
                    + "comes from the layer before it; start at layer 1 or rank by L2_NORM");
        }
    }

    /** The same token dropping with the given linear layers pruned to 2:4. */
    public EncoderSparsity withTwoFour(TwoFourScope scope) {
        return new EncoderSparsity(scope, keepRatio, fromLayer, score);
    }

    /** Keep {@code ratio} of each sentence's tokens from layer {@code layer} on, ranked by the current score rule. */
    public EncoderSparsity withTokenDropping(double ratio, int layer) {
        return new EncoderSparsity(twoFour, ratio, layer, score);
    }

    /**
     * For an encoder of {@code layers} layers: keep {@code ratio} of the tokens (1 or more: no dropping) from layer
     * {@code layer} on, or from the middle layer ({@code layers / 2}) when {@code layer} is negative; fails unless the
     * dropping starts within the encoder. The one rule {@code lacuna embed} and the Spark transformer share.
     */
    public EncoderSparsity withTokenDropping(double ratio, int layer, int layers) {
        EncoderSparsity sparsity = ratio < 1 ? withTokenDropping(ratio, layer >= 0 ? layer : layers / 2) : this;
        sparsity.requireFits(layers);
        return sparsity;
    }

    public EncoderSparsity withScore(ScoreRule rule) {
        return new EncoderSparsity(twoFour, keepRatio, fromLayer, rule);
    }

    public boolean dropsTokens() {
        return keepRatio < 1;
    }

    public boolean isDense() {
        return twoFour == TwoFourScope.NONE && !dropsTokens();
    }

    /** What layer {@code layer} (0-based) drops, or null when it keeps every token. */
    public TokenDropping droppingAt(int layer) {
        return dropsTokens() && layer >= fromLayer ? TokenDropping.keep(keepRatio, score) : null;
    }

    /** Fails unless the dropping starts within an encoder of {@code layers} layers. */
    public void requireFits(int layers) {
        if (dropsTokens() && fromLayer >= layers) {
            throw InvalidInputException.argument("EncoderSparsity", "token dropping from layer " + fromLayer
                    + " but the encoder has " + layers + " layers (0 to " + (layers - 1) + ")");
        }
    }

    /** "dense", "2:4 ffn", "keep 0.7 from layer 3 by CLS_ATTENTION", or both joined with " + ". */
    public String describe() {
        if (isDense()) {
            return "dense";
        }
        String prune = twoFour == TwoFourScope.NONE ? null : "2:4 " + twoFour.name().toLowerCase(Locale.ROOT);
        String drop = dropsTokens() ? String.format(Locale.ROOT, "keep %s from layer %d by %s",
                trim(keepRatio), fromLayer, score) : null;
        return prune == null ? drop : drop == null ? prune : prune + " + " + drop;
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.4f", v);
        return s.replaceAll("0+$", "").replaceAll("\\.$", "");
    }
}

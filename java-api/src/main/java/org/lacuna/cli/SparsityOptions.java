package org.lacuna.cli;

import java.util.Locale;
import org.lacuna.api.layers.TwoFourScope;
import org.lacuna.api.models.EncoderSparsity;
import org.lacuna.runtime.attention.ScoreRule;
import org.lacuna.runtime.error.InvalidInputException;
import picocli.CommandLine.Option;

/** How sparse an encoder runs: 2:4 pruning and token dropping (a picocli mixin of {@code lacuna embed}). */
final class SparsityOptions {
    /** What a token-dropping layer ranks tokens by: the attention [CLS] paid them, all they received, or their norm. */
    enum ScoreChoice {
        cls(ScoreRule.CLS_ATTENTION), received(ScoreRule.MEAN_ATTENTION_RECEIVED), l2(ScoreRule.L2_NORM);

        final ScoreRule rule;

        ScoreChoice(ScoreRule rule) {
            this.rule = rule;
        }
    }

    @Option(names = "--prune", paramLabel = "2:4=ffn|all", description = "Magnitude-prune linear layers to 2:4 at "
            + "load: 2:4=ffn the feed-forward layers only, 2:4=all every linear layer.")
    String prune;

    @Option(names = "--keep", paramLabel = "R", description = "Token dropping: each layer from --from-layer on keeps "
            + "this fraction of each text's tokens, in (0, 1]; [CLS] always stays.")
    Double keep;

    @Option(names = "--from-layer", paramLabel = "L", description = "First layer (0-based) that drops tokens "
            + "(default: the middle layer, layers / 2).")
    Integer fromLayer;

    @Option(names = "--score", defaultValue = "cls", description = "What token dropping ranks by: cls (attention "
            + "from [CLS] in the layer before, EViT's rule), received (mean attention received) or l2 (hidden-state "
            + "norm). Default ${DEFAULT-VALUE}.")
    ScoreChoice score;

    /** The sparsity asked for, before the model's depth is known (the default first dropping layer needs it). */
    record Request(TwoFourScope twoFour, Double keep, Integer fromLayer, ScoreRule score) {
        EncoderSparsity resolve(int layers) {
            return EncoderSparsity.DENSE.withScore(score).withTwoFour(twoFour)
                    .withTokenDropping(keep == null ? 1 : keep, fromLayer == null ? -1 : fromLayer, layers);
        }
    }

    /** The options checked as far as they can be without the model; fails naming the option. */
    Request request() {
        TwoFourScope scope = TwoFourScope.NONE;
        if (prune != null) {
            scope = switch (prune.strip().toLowerCase(Locale.ROOT)) {
                case "2:4=ffn" -> TwoFourScope.FFN;
                case "2:4=all" -> TwoFourScope.ALL;
                default -> throw InvalidInputException.argument("--prune", "takes 2:4=ffn or 2:4=all, not '"
                        + prune + "'");
            };
        }
        if (fromLayer != null && keep == null) {
            throw InvalidInputException.argument("--from-layer", "needs --keep R (the fraction of tokens to keep)");
        }
        if (keep != null) {
            // Validates the ratio (and a layer-0 start with an attention score) before the model is read.
            new EncoderSparsity(scope, keep, fromLayer != null ? fromLayer : 1, score.rule);
        }
        return new Request(scope, keep, fromLayer, score.rule);
    }
}

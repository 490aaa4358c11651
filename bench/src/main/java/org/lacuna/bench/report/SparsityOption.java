package org.lacuna.bench.report;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.api.layers.TwoFourScope;
import org.lacuna.api.models.EncoderSparsity;
import org.lacuna.runtime.attention.ScoreRule;

/** One way to run the encoder in the accuracy table, with its short label ({@code 2:4 ffn + keep 0.7}). */
public record SparsityOption(String label, EncoderSparsity sparsity) {
    /**
     * The settings for an encoder of {@code layers} layers: dense (the reference), 2:4 on the FFN only and
     * everywhere, token dropping at keep 0.7 and 0.5 from the middle layer on ranked by [CLS] attention (EViT), each
     * combination of the two.
     */
    public static List<SparsityOption> standard(int layers) {
        return build(layers, false);
    }

    /** {@link #standard} and the token dropping ranked by mean received attention instead of [CLS]'s. */
    public static List<SparsityOption> withScoreVariants(int layers) {
        return build(layers, true);
    }

    private static List<SparsityOption> build(int layers, boolean scoreVariants) {
        int middle = layers / 2;
        EncoderSparsity dense = EncoderSparsity.DENSE;
        List<SparsityOption> options = new ArrayList<>();
        options.add(new SparsityOption("dense", dense));
        options.add(new SparsityOption("2:4 ffn", dense.withTwoFour(TwoFourScope.FFN)));
        options.add(new SparsityOption("2:4 all", dense.withTwoFour(TwoFourScope.ALL)));
        for (double keep : new double[] {0.7, 0.5}) {
            options.add(new SparsityOption("keep " + keep, dense.withTokenDropping(keep, middle)));
        }
        for (TwoFourScope scope : new TwoFourScope[] {TwoFourScope.FFN, TwoFourScope.ALL}) {
            for (double keep : new double[] {0.7, 0.5}) {
                options.add(new SparsityOption("2:4 " + scope.name().toLowerCase(java.util.Locale.ROOT) + " + keep "
                        + keep, dense.withTwoFour(scope).withTokenDropping(keep, middle)));
            }
        }
        for (double keep : scoreVariants ? new double[] {0.7, 0.5} : new double[0]) {
            options.add(new SparsityOption("keep " + keep + " (received)", dense.withTokenDropping(keep, middle)
                    .withScore(ScoreRule.MEAN_ATTENTION_RECEIVED)));
        }
        return List.copyOf(options);
    }
}

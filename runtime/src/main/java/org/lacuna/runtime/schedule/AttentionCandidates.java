package org.lacuna.runtime.schedule;

import java.util.ArrayList;
import java.util.List;

/**
 * The candidates for a transformer block whose layer drops tokens: the block over the kept tokens only (score,
 * select, gather, the block, scatter back), and the block in place over every token — offered only where the
 * selection keeps every token, because only then is it the same function (which tokens to drop is the user's
 * accuracy decision, never the scheduler's). A block that drops nothing has the in-place candidate alone.
 */
public final class AttentionCandidates {
    public static final String KEPT_TOKENS = "kept-tokens";
    public static final String IN_PLACE = "in-place";

    private AttentionCandidates() {
    }

    /**
     * @param hidden    model width
     * @param ffnHidden width of the feed-forward layer
     * @param inPlace   runs the block over every token (null: predict only)
     * @param kept      runs the block over the kept tokens (null: predict only)
     */
    public static List<Candidate> of(String backend, AttentionStatistics s, int hidden, int ffnHidden,
                                     boolean dropsTokens, Runnable inPlace, Runnable kept) {
        List<Candidate> out = new ArrayList<>();
        if (!dropsTokens || !s.dropsTokens()) {
            out.add(new Candidate(IN_PLACE, backend + ".encoder-block", block(s, s.tokens(), hidden, ffnHidden), true,
                    inPlace));
        }
        if (dropsTokens) {
            double ds = s.dtype().byteSize();
            // Scores (an L2 norm or given), the selection, the gather of kept rows and the scatter of every row.
            Work selection = new Work(2.0 * s.tokens() * hidden,
                    s.tokens() * hidden * ds + s.keptTokens() * hidden * ds * 2 + s.tokens() * hidden * ds * 2, 4);
            out.add(new Candidate(KEPT_TOKENS, backend + ".encoder-block",
                    block(s, s.keptTokens(), hidden, ffnHidden).plus(selection), false, kept));
        }
        return out;
    }

    /** A pre- or post-norm block over {@code tokens} rows in {@code s.batch()} sequences. */
    static Work block(AttentionStatistics s, long tokens, int hidden, int ffnHidden) {
        double n = tokens;
        double h = hidden;
        double ds = s.dtype().byteSize();
        double linears = 2 * n * (4 * h * h + 2 * h * ffnHidden);
        // QKᵀ and PV per sequence: 4 · L² · hidden, with the sequences' mean length n / batch.
        double attention = 4 * n * (n / Math.max(1, s.batch())) * h * (s.causal() ? 0.5 : 1);
        double weights = (4 * h * h + 2 * h * ffnHidden) * ds;
        double activations = n * (8 * h + 2 * ffnHidden) * ds;
        return new Work(linears + attention, weights + activations, 10);
    }
}

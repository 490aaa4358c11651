package org.lacuna.runtime.attention;

import org.lacuna.runtime.error.InvalidInputException;

/**
 * Which tokens of each sequence a token-dropping layer keeps. Per sequence of n items (tokens, or windows under
 * {@link Granularity.Windows}), the pinned items are always kept — the first {@code pinnedPrefix} positions (1 for a
 * CLS token) and any the caller marks — and of the others:
 * <ul>
 *   <li>{@link KeepRatio} r: the {@code ceil(r·n) − pinned} best-scoring (none if the pinned already reach it), ties
 *       going to the earlier position, so r = 1 keeps everything and a tiny r keeps a single token;</li>
 *   <li>{@link Threshold} θ: every item scoring at least θ.</li>
 * </ul>
 * Kept tokens keep their original order. A NaN score is bad input.
 *
 * @param pinnedPrefix positions {@code 0 .. pinnedPrefix-1} of every sequence are always kept (and, under windows,
 *                     lie outside the window grid)
 */
public record SelectionRule(Budget budget, int pinnedPrefix, Granularity granularity) {
    /** How many of the unpinned items to keep. */
    public sealed interface Budget permits KeepRatio, Threshold {
    }

    /** Keep {@code ceil(ratio · n)} items of n, pinned ones included; ratio in (0, 1]. */
    public record KeepRatio(double ratio) implements Budget {
        public KeepRatio {
            if (!(ratio > 0.0 && ratio <= 1.0)) {
                throw InvalidInputException.argument("SelectionRule", "keep ratio must be in (0, 1], got " + ratio);
            }
        }

        /**
         * {@code ceil(ratio · n)}, forgiving a product that rounding lifts a hair above an integer. The kernels evaluate
         * the very same double expression.
         */
        public long keep(long items) {
            return items == 0 ? 0 : (long) Math.ceil(ratio * (double) items * (1.0 - 1e-12));
        }
    }

    /** Keep every item whose score is at least {@code threshold} (a window: its mean score). */
    public record Threshold(float threshold) implements Budget {
        public Threshold {
            if (Float.isNaN(threshold)) {
                throw InvalidInputException.argument("SelectionRule", "the score threshold is NaN");
            }
        }
    }

    public SelectionRule {
        if (budget == null || granularity == null) {
            throw InvalidInputException.argument("SelectionRule", "budget and granularity are required");
        }
        if (pinnedPrefix < 0) {
            throw InvalidInputException.argument("SelectionRule", "pinned prefix must be >= 0, got " + pinnedPrefix);
        }
    }

    /** Keep {@code ceil(ratio · n)} tokens a sequence, nothing pinned. */
    public static SelectionRule keepRatio(double ratio) {
        return new SelectionRule(new KeepRatio(ratio), 0, Granularity.TOKENS);
    }

    /** Keep the tokens scoring at least {@code threshold}, nothing pinned. */
    public static SelectionRule threshold(float threshold) {
        return new SelectionRule(new Threshold(threshold), 0, Granularity.TOKENS);
    }

    /** The same rule with the first {@code count} positions of every sequence always kept (1: a CLS token). */
    public SelectionRule pinningPrefix(int count) {
        return new SelectionRule(budget, count, granularity);
    }

    /** The same rule applied to whole windows ({@link Granularity.Windows}). */
    public SelectionRule inWindows(int gridWidth, int windowHeight, int windowWidth) {
        return new SelectionRule(budget, pinnedPrefix, new Granularity.Windows(gridWidth, windowHeight, windowWidth));
    }

    /**
     * The most tokens a sequence of {@code length} keeps: what its kept batch's {@code maxLength} can be. Exact for
     * ratios without a pin mask, else {@code length}.
     */
    public int maxKept(int length, boolean pinMask) {
        if (!(budget instanceof KeepRatio ratio) || pinMask) {
            return length;
        }
        int prefix = Math.min(pinnedPrefix, length);
        long kept = switch (granularity) {
            case Granularity.Tokens ignored -> Math.max(ratio.keep(length), prefix);
            case Granularity.Windows w -> prefix + ratio.keep(w.windowsFor(length - prefix)) * (long) w.area();
        };
        return (int) Math.min(length, kept);
    }

    /**
     * An upper bound on the tokens a whole batch keeps, from host-side facts only (no look at the device's offsets):
     * the rows a token selection and the tensors gathered through it need. {@code rows} tokens in {@code batch}
     * sequences of at most {@code maxLength}.
     */
    public long capacity(long rows, int batch, int maxLength, boolean pinMask) {
        if (rows < 0 || batch < 0 || maxLength < 0) {
            throw InvalidInputException.shape("SelectionRule.capacity", "negative size: rows " + rows + ", batch "
                    + batch + ", maxLength " + maxLength);
        }
        long bound = Math.min(rows, (long) batch * maxKept(maxLength, pinMask));
        if (budget instanceof KeepRatio ratio && !pinMask && granularity instanceof Granularity.Tokens) {
            // Σ_b max(ceil(r·n_b), p) <= r·Σ n_b + batch·(1 + p): tighter than batch·maxKept for ragged batches.
            bound = Math.min(bound, (long) Math.ceil(ratio.ratio() * rows) + (long) batch * (1 + pinnedPrefix));
        }
        return bound;
    }
}

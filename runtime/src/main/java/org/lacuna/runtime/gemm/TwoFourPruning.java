package org.lacuna.runtime.gemm;

import static org.lacuna.runtime.gemm.WeightMatrices.GROUP_WIDTH;

/**
 * Magnitude pruning to the 2:4 pattern the sparse tensor cores accept: in every group of 4 consecutive weights along
 * the reduction dimension, at most 2 are non-zero.
 */
public final class TwoFourPruning {
    private static final String CALL = "TwoFourPruning.prune";

    private TwoFourPruning() {
    }

    /**
     * Returns a copy of W[out, in] (row-major) where each group W[r][4j..4j+3] keeps its 2 entries of largest
     * magnitude and the others are zero. On equal magnitudes the lower column wins, so the result is deterministic.
     * A trailing partial group (in % 4 != 0) behaves as if padded with zeros: it keeps its 2 largest entries.
     *
     * @throws org.lacuna.runtime.error.InvalidInputException INVALID_ARGUMENT if W holds NaN or an infinity,
     *     SHAPE_MISMATCH if {@code w.length != out * in}
     */
    public static float[] prune(float[] w, int out, int in) {
        WeightMatrices.requireShape(CALL, w, out, in);
        WeightMatrices.requireFinite(CALL, w, in);
        float[] pruned = new float[w.length];
        int groups = WeightMatrices.groupsPerRow(in);
        for (int row = 0; row < out; row++) {
            for (int group = 0; group < groups; group++) {
                keepTwoLargest(w, pruned, row * in + group * GROUP_WIDTH, WeightMatrices.groupLength(group, in));
            }
        }
        return pruned;
    }

    private static void keepTwoLargest(float[] source, float[] target, int first, int length) {
        int largest = indexOfLargest(source, first, length, -1);
        target[first + largest] = source[first + largest];
        if (length > 1) {
            int second = indexOfLargest(source, first, length, largest);
            target[first + second] = source[first + second];
        }
    }

    /** Strict comparison keeps the earliest of equal magnitudes: that is the tie rule. */
    private static int indexOfLargest(float[] source, int first, int length, int excluded) {
        int best = -1;
        for (int i = 0; i < length; i++) {
            if (i != excluded && (best < 0 || Math.abs(source[first + i]) > Math.abs(source[first + best]))) {
                best = i;
            }
        }
        return best;
    }
}

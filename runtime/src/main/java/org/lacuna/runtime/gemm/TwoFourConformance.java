package org.lacuna.runtime.gemm;

import static org.lacuna.runtime.gemm.WeightMatrices.GROUP_WIDTH;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * Whether a dense weight W[out, in] already has the 2:4 pattern (at most 2 non-zeros in every group W[r][4j..4j+3])
 * and how close it is. A trailing partial group counts as padded with zeros.
 */
public final class TwoFourConformance {
    static final int MAX_NON_ZEROS = 2;

    private TwoFourConformance() {
    }

    /**
     * A group with more than 2 non-zeros.
     *
     * @param row the row of W
     * @param group the group index j: dense columns 4j..4j+3
     * @param nonZeros how many of the group's values are non-zero
     * @param values the group's values (fewer than 4 for a trailing partial group)
     */
    public record Violation(int row, int group, int nonZeros, List<Float> values) {
        public Violation {
            values = List.copyOf(values);
        }

        public int firstColumn() {
            return group * GROUP_WIDTH;
        }

        public int lastColumn() {
            return firstColumn() + values.size() - 1;
        }
    }

    /** The first group in row-major order with more than 2 non-zeros, if any. */
    public static Optional<Violation> firstViolation(float[] w, int out, int in) {
        WeightMatrices.requireShape("TwoFourConformance.firstViolation", w, out, in);
        int groups = WeightMatrices.groupsPerRow(in);
        for (int row = 0; row < out; row++) {
            for (int group = 0; group < groups; group++) {
                int nonZeros = WeightMatrices.nonZerosInGroup(w, row * in, group, in);
                if (nonZeros > MAX_NON_ZEROS) {
                    return Optional.of(new Violation(row, group, nonZeros, groupValues(w, row, group, in)));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Throws unless W is 2:4 sparse. The message names the first offending group so that the caller can find it,
     * and says how to fix it.
     *
     * @throws InvalidInputException INVALID_ARGUMENT naming the first group with more than 2 non-zeros
     */
    public static void require(float[] w, int out, int in) {
        String call = "TwoFourConformance.require";
        WeightMatrices.requireShape(call, w, out, in);
        Optional<Violation> violation = firstViolation(w, out, in);
        if (violation.isPresent()) {
            Violation v = violation.get();
            long groups = (long) out * WeightMatrices.groupsPerRow(in);
            long violating = groups - conformingGroups(w, out, in);
            throw InvalidInputException.argument(call, "weight [out=" + out + ", in=" + in + "] is not 2:4 sparse: row "
                    + v.row() + ", columns " + v.firstColumn() + ".." + v.lastColumn() + " hold " + v.values() + " ("
                    + v.nonZeros() + " non-zeros; at most " + MAX_NON_ZEROS + " of every 4 along in are allowed); "
                    + violating + " of " + groups + " groups violate this. Prune the weight first (Linear.Options.pruned()"
                    + " in the Java API, or TwoFourPruning.prune) or use a dense kernel");
        }
    }

    /** Fraction of non-zero entries; 0 for an empty array. NaN counts as non-zero. */
    public static double density(float[] w) {
        if (w.length == 0) {
            return 0;
        }
        long nonZeros = 0;
        for (float value : w) {
            if (value != 0f) {
                nonZeros++;
            }
        }
        return (double) nonZeros / w.length;
    }

    /** Fraction of groups with at most 2 non-zeros: 1.0 exactly when W is 2:4 sparse. */
    public static double conformance(float[] w, int out, int in) {
        WeightMatrices.requireShape("TwoFourConformance.conformance", w, out, in);
        return (double) conformingGroups(w, out, in) / ((long) out * WeightMatrices.groupsPerRow(in));
    }

    private static long conformingGroups(float[] w, int out, int in) {
        int groups = WeightMatrices.groupsPerRow(in);
        long conforming = 0;
        for (int row = 0; row < out; row++) {
            for (int group = 0; group < groups; group++) {
                if (WeightMatrices.nonZerosInGroup(w, row * in, group, in) <= MAX_NON_ZEROS) {
                    conforming++;
                }
            }
        }
        return conforming;
    }

    private static List<Float> groupValues(float[] w, int row, int group, int in) {
        int first = row * in + group * GROUP_WIDTH;
        List<Float> values = new ArrayList<>(GROUP_WIDTH);
        for (int c = 0; c < WeightMatrices.groupLength(group, in); c++) {
            values.add(w[first + c]);
        }
        return values;
    }
}

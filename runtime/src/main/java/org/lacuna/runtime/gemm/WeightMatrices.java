package org.lacuna.runtime.gemm;

import java.util.Objects;
import org.lacuna.runtime.error.InvalidInputException;

/** Checks shared by everything that reads a dense row-major weight W[out, in] split into groups of 4 along in. */
final class WeightMatrices {
    static final int GROUP_WIDTH = 4;

    private WeightMatrices() {
    }

    static void requireShape(String call, float[] w, int out, int in) {
        Objects.requireNonNull(w, "w");
        if (out < 1 || in < 1) {
            throw InvalidInputException.shape(call, "weight shape [out=" + out + ", in=" + in
                    + "] must have out >= 1 and in >= 1");
        }
        if ((long) out * in != w.length) {
            throw InvalidInputException.shape(call, "weight shape [out=" + out + ", in=" + in + "] holds "
                    + (long) out * in + " elements but the array has " + w.length);
        }
    }

    /** Rejects NaN and infinities: magnitude ranking and fp16 storage are meaningless for them. */
    static void requireFinite(String call, float[] w, int in) {
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(w[i])) {
                throw InvalidInputException.argument(call, "W[row " + i / in + ", column " + i % in + "] is " + w[i]
                        + "; 2:4 sparse weights must be finite");
            }
        }
    }

    /** Groups per row, counting a trailing partial group (in % 4 != 0) as a whole one. */
    static int groupsPerRow(int in) {
        return Math.ceilDiv(in, GROUP_WIDTH);
    }

    /** Columns of {@code group} that exist in a row of {@code in}: 4, except for a trailing partial group. */
    static int groupLength(int group, int in) {
        return Math.min(GROUP_WIDTH, in - group * GROUP_WIDTH);
    }

    static int nonZerosInGroup(float[] w, int rowStart, int group, int in) {
        int first = rowStart + group * GROUP_WIDTH;
        int count = 0;
        for (int c = 0; c < groupLength(group, in); c++) {
            // != 0 counts NaN as non-zero and -0.0 as zero, which is what "holds a value" means to the kernel.
            if (w[first + c] != 0f) {
                count++;
            }
        }
        return count;
    }
}

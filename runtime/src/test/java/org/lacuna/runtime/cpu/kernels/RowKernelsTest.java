package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.testing.TestData;

/** Row reductions' partials: the plain Java form's order, and its bits beside the Vector API form's. */
class RowKernelsTest {
    private static final int[] LENGTHS = {1, 15, 16, 17, 1023, 4099};

    /** Folds a row through {@code kernels} in blocks of {@code block} (a multiple of its partials, as callers do). */
    private static float reduce(RowKernels kernels, float[] row, RowReduction reduction, int block) {
        float[] partials = new float[kernels.partials()];
        Arrays.fill(partials, RowKernels.identity(reduction));
        for (int at = 0; at < row.length; at += block) {
            int n = Math.min(block, row.length - at);
            kernels.accumulate(Arrays.copyOfRange(row, at, at + n), n, reduction, partials);
        }
        return RowKernels.finish(partials, reduction);
    }

    @Test
    void thePlainFormFoldsElementIIntoPartialIModSixteen() {
        SplittableRandom random = TestData.random("rowKernelsPlain");
        RowKernels plain = RowKernels.of(false);
        assertEquals(RowKernels.PLAIN_PARTIALS, plain.partials());
        for (int length : LENGTHS) {
            float[] row = TestData.uniform(random, length, 2f, DType.F32);
            for (RowReduction reduction : RowReduction.values()) {
                float[] lanes = new float[RowKernels.PLAIN_PARTIALS];
                Arrays.fill(lanes, RowKernels.identity(reduction));
                for (int i = 0; i < length; i++) {
                    lanes[i % lanes.length] = RowKernels.fold(reduction, lanes[i % lanes.length], row[i]);
                }
                float expected = RowKernels.finish(lanes, reduction);
                assertEquals(expected, reduce(plain, row, reduction, 1024), 0f, reduction + " over " + length);
                assertEquals(expected, reduce(plain, row, reduction, 16), 0f, reduction + " over " + length
                        + " in blocks of 16");
            }
        }
    }

    @Test
    void bothFormsGiveTheSameBitsWhereTheVectorHasSixteenLanes() {
        RowKernels vector = RowKernels.of(true);
        assumeTrue(vector.partials() == RowKernels.PLAIN_PARTIALS,
                "the Vector API form here has " + vector.partials() + " partials (16 with AVX-512 and the module)");
        SplittableRandom random = TestData.random("rowKernelsBothForms");
        for (int length : LENGTHS) {
            float[] row = TestData.uniform(random, length, 2f, DType.F32);
            for (RowReduction reduction : RowReduction.values()) {
                assertEquals(reduce(RowKernels.of(false), row, reduction, 1024), reduce(vector, row, reduction, 1024),
                        0f, reduction + " over " + length);
            }
        }
    }
}

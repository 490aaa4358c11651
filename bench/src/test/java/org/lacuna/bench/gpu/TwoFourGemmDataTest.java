package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;

class TwoFourGemmDataTest {
    @Test
    void inputsAreNeverZeroAndDoNotDependOnThreads() {
        float[] values = TwoFourGemmData.randomNonZero(3_000_017, 5);
        int negative = 0;
        for (float v : values) {
            assertTrue(Math.abs(v) >= 0.25f && Math.abs(v) < 1f, "value " + v);
            negative += v < 0 ? 1 : 0;
        }
        assertEquals(0.5, negative / (double) values.length, 0.01);
        assertArrayEquals(values, TwoFourGemmData.randomNonZero(3_000_017, 5));
        // X is built without the float copy; it must hold the same values.
        assertArrayEquals(TwoFourGemmData.toHalves(TwoFourGemmData.randomNonZero(96L * 200, seedOfX(96, 200)), DType.BF16),
                TwoFourGemmData.activations(96, 200, DType.BF16));
    }

    private static long seedOfX(int tokens, int in) {
        return "x".hashCode() * 31L * 31L + tokens * 31L + in;
    }

    @Test
    void theWeightKeepsBothFormsAndTheCheckedRowsAsStored() {
        TwoFourGemmData.Weight weight = TwoFourGemmData.weight(200, 72, DType.F16);
        float[] pruned = weight.twoFour().decompress();

        assertEquals(200 * 72, weight.dense().length);
        assertEquals(64, weight.checkedColumns().length);
        for (int i = 0; i < weight.checkedColumns().length; i++) {
            int row = weight.checkedColumns()[i];
            float[] stored = java.util.Arrays.copyOfRange(pruned, row * 72, row * 72 + 72);
            assertArrayEquals(stored, weight.prunedRows()[i]);
            for (int group = 0; group < 72 / 4; group++) {
                int kept = 0;
                for (int k = 0; k < 4; k++) {
                    float dense = weight.denseRows()[i][4 * group + k];
                    assertEquals(HalfFloats.fromF16(weight.dense()[row * 72 + 4 * group + k]), dense);
                    if (stored[4 * group + k] != 0) {
                        kept++;
                        assertEquals(dense, stored[4 * group + k]);
                    }
                }
                assertEquals(2, kept, "row " + row + " group " + group);
            }
        }
        // W as the 2:4 kernel stores it: padded to 256 x 128, half the values, 2 bits of index per kept value.
        assertEquals(256 * 64 * 2 + 256 * 128 / 8, weight.storedTwoFourBytes());
    }

    @Test
    void checkedColumnsSpreadFromFirstToLast() {
        int[] columns = TwoFourGemmData.checkedColumns(11008);
        assertEquals(64, columns.length);
        assertEquals(0, columns[0]);
        assertEquals(11007, columns[63]);
        for (int i = 1; i < columns.length; i++) {
            assertTrue(columns[i] > columns[i - 1]);
        }
        assertArrayEquals(new int[] {0, 1, 2}, TwoFourGemmData.checkedColumns(3));
        assertArrayEquals(new int[] {0}, TwoFourGemmData.checkedColumns(1));
        assertArrayEquals(new int[] {0, 8, 16}, TwoFourGemmData.checkedTokens(17));
        assertArrayEquals(new int[] {0}, TwoFourGemmData.checkedTokens(1));
    }

    @Test
    void theCheckAcceptsOutputRoundingAndCatchesAWrongValue() {
        int in = 4096;
        float[][] x = {TwoFourGemmData.randomNonZero(in, 1), TwoFourGemmData.randomNonZero(in, 2)};
        float[][] w = new float[3][];
        for (int c = 0; c < w.length; c++) {
            w[c] = TwoFourGemmData.randomNonZero(in, 10 + c);
        }
        int[] tokens = {0, 7};
        int[] columns = {0, 2, 5};
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            float[][] y = new float[2][6];
            for (int t = 0; t < 2; t++) {
                for (int c = 0; c < columns.length; c++) {
                    double sum = 0;
                    for (int k = 0; k < in; k++) {
                        sum += (double) x[t][k] * w[c][k];
                    }
                    // What a kernel writes: the fp32 sum, rounded to the output type.
                    y[t][columns[c]] = HalfFloats.roundTo(dtype, (float) sum);
                }
            }
            assertEquals("ok", TwoFourGemmData.check(tokens, y, x, columns, w, dtype));

            // The largest product term dropped (a misread index), or a NaN: both must show.
            int largest = 0;
            for (int k = 0; k < in; k++) {
                largest = Math.abs(x[1][k] * w[2][k]) > Math.abs(x[1][largest] * w[2][largest]) ? k : largest;
            }
            y[1][5] -= x[1][largest] * w[2][largest];
            String dropped = TwoFourGemmData.check(tokens, y, x, columns, w, dtype);
            assertTrue(dropped.startsWith("MISMATCH in 1 of 6 values, worst y[7, 5]"), dropped);
            y[0][0] = Float.NaN;
            assertTrue(TwoFourGemmData.check(tokens, y, x, columns, w, dtype).startsWith("MISMATCH in 2 of 6"));
        }
    }

    @Test
    void theWeightCacheKeepsRecentWeightsWithinItsBudget() {
        long oneWeight = TwoFourGemmData.weight(128, 64, DType.F16).hostBytes();
        TwoFourGemmData.WeightCache cache = new TwoFourGemmData.WeightCache(2 * oneWeight);
        TwoFourGemmData.Weight a = cache.get(128, 64, DType.F16);
        assertSame(a, cache.get(128, 64, DType.F16));
        TwoFourGemmData.Weight b = cache.get(128, 64, DType.BF16);
        assertEquals(2, cache.size());
        cache.get(128, 64, DType.F16); // a is now the most recent: the next weight evicts b
        cache.get(120, 64, DType.F16); // no larger than a or b
        assertEquals(2, cache.size());
        assertSame(a, cache.get(128, 64, DType.F16));
        assertNotSame(b, cache.get(128, 64, DType.BF16));
    }
}

package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The fused kernel and its tile GEMMs on plain arrays, over ragged shapes: the GEMMs (adding into scattered rows)
 * against a double product, touching nothing else; the Vector API tile GEMM computes exactly the scalar kernel's
 * bits whatever register block or leftover path an element falls in; and the kernel's defining property, that any
 * cut of the outputs into blocks gives the same bits.
 */
class SparseConvKernelPropertiesTest {
    private static final List<TileGemm> GEMMS = List.of(TileGemm.SCALAR, VectorTileGemm.INSTANCE);

    @Property(tries = 60)
    void tileGemmsMatchADoubleProduct(@ForAll @IntRange(min = 1, max = 37) int m,
                                      @ForAll @IntRange(min = 1, max = 150) int n,
                                      @ForAll @IntRange(min = 1, max = 70) int k, @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int lda = k + random.nextInt(3);
        int ldb = n + random.nextInt(3);
        float[] a = values(random, m * lda);
        float[] b = values(random, 1 + k * ldb);
        int[] rows = scatteredRows(random, m, n);
        float[] start = values(random, (m + 3) * (n + 2));
        for (TileGemm gemm : GEMMS) {
            float[] c = start.clone();
            gemm.accumulate(m, n, k, a, lda, b, 1, ldb, c, rows);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double expected = start[rows[i] + j];
                    double magnitude = Math.abs(expected);
                    for (int p = 0; p < k; p++) {
                        double product = (double) a[i * lda + p] * b[1 + p * ldb + j];
                        expected += product;
                        magnitude += Math.abs(product);
                    }
                    double error = Math.abs(c[rows[i] + j] - expected);
                    assertTrue(error <= 1e-6 * magnitude + 1e-30, gemm + " m" + m + " n" + n + " k" + k + " at ("
                            + i + ", " + j + "): " + c[rows[i] + j] + " vs " + expected);
                }
            }
            assertUntouchedOutsideTheRows(start, c, rows, n);
        }
    }

    @Property(tries = 40)
    void theVectorTileGemmComputesTheScalarKernelsBits(@ForAll @IntRange(min = 1, max = 37) int m,
                                                       @ForAll @IntRange(min = 1, max = 150) int n,
                                                       @ForAll @IntRange(min = 1, max = 300) int k,
                                                       @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] a = values(random, m * k);
        float[] b = values(random, k * n);
        int[] rows = scatteredRows(random, m, n);
        float[] start = values(random, (m + 3) * (n + 2));
        float[] vector = start.clone();
        float[] scalar = start.clone();
        VectorTileGemm.INSTANCE.accumulate(m, n, k, a, k, b, 0, n, vector, rows);
        TileGemm.SCALAR.accumulate(m, n, k, a, k, b, 0, n, scalar, rows);
        assertArrayEquals(scalar, vector, "m" + m + " n" + n + " k" + k);
    }

    /** m distinct accumulator rows of width n, shuffled, in a buffer of m + 3 rows of n + 2 (gaps the GEMM skips). */
    private static int[] scatteredRows(SplittableRandom random, int m, int n) {
        List<Integer> slots = new ArrayList<>();
        for (int r = 0; r < m + 3; r++) {
            slots.add(r);
        }
        java.util.Collections.shuffle(slots, new java.util.Random(random.nextLong()));
        int[] rows = new int[m];
        for (int i = 0; i < m; i++) {
            rows[i] = slots.get(i) * (n + 2);
        }
        return rows;
    }

    private static void assertUntouchedOutsideTheRows(float[] start, float[] c, int[] rows, int n) {
        boolean[] written = new boolean[c.length];
        for (int row : rows) {
            java.util.Arrays.fill(written, row, row + n, true);
        }
        for (int e = 0; e < c.length; e++) {
            if (!written[e]) {
                assertEquals(start[e], c[e], "element " + e + " lies in no target row but was written");
            }
        }
    }

    @Property(tries = 40)
    void anyBlockSizeGivesTheSameBits(@ForAll @IntRange(min = 1, max = 300) int outputs,
                                      @ForAll @IntRange(min = 1, max = 27) int volume,
                                      @ForAll @IntRange(min = 1, max = 40) int in,
                                      @ForAll @IntRange(min = 1, max = 70) int out,
                                      @ForAll @IntRange(min = 1, max = 90) int blockRows, @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int inputs = 1 + random.nextInt(200);
        double density = random.nextDouble();
        // Offset-major pairs in output order; each output meets an offset at most once, some outputs never.
        List<int[]> pairs = new ArrayList<>();
        long[] pairStart = new long[volume + 1];
        for (int v = 0; v < volume; v++) {
            for (int o = 0; o < outputs; o++) {
                if (random.nextDouble() < density) {
                    pairs.add(new int[] {random.nextInt(inputs), o});
                }
            }
            pairStart[v + 1] = pairs.size();
        }
        int[] pairInputs = pairs.stream().mapToInt(p -> p[0]).toArray();
        int[] pairOutputs = pairs.stream().mapToInt(p -> p[1]).toArray();
        float[] bias = random.nextBoolean() ? values(random, out) : null;
        SparseConvKernel.Problem problem = SparseConvKernel.Problem.of(values(random, inputs * in), in,
                values(random, volume * in * out), out, bias, random.nextBoolean(), volume, pairStart, pairInputs,
                pairOutputs);
        for (TileGemm gemm : GEMMS) {
            float[] whole = run(problem, gemm, outputs, outputs);
            float[] blocked = run(problem, gemm, outputs, blockRows);
            assertArrayEquals(whole, blocked, gemm + ": blocks of " + blockRows + " rows");
        }
    }

    private static float[] run(SparseConvKernel.Problem problem, TileGemm gemm, int outputs, int blockRows) {
        float[] y = new float[outputs * problem.out()];
        for (int first = 0; first < outputs; first += blockRows) {
            int rows = Math.min(blockRows, outputs - first);
            float[] block = SparseConvKernel.block(problem, gemm, first, rows);
            System.arraycopy(block, 0, y, first * problem.out(), rows * problem.out());
        }
        return y;
    }

    private static float[] values(SplittableRandom random, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) random.nextDouble(-1, 1);
        }
        return v;
    }
}

package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.cpu.CpuCapabilities;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.internal.cpublas.OpenBlas;
import org.lacuna.runtime.testing.TestData;

/**
 * Every fp32 GEMM kernel (Vector API, scalar, OpenBLAS) against a double-precision reference on ragged shapes, with
 * offsets, padded leading dimensions, both layouts of B and both write modes; and the {@link Sgemm} contract that an
 * element's sum depends on k alone.
 */
class SgemmTest {
    /** The {@link Sgemm#multiply} signature, so every kernel runs through the same checks. */
    interface Kernel {
        void multiply(int m, int n, int k, float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                      boolean transposeB, float[] c, int cOffset, int ldc, boolean accumulate);
    }

    record Named(String name, Kernel kernel) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** One GEMM problem: shapes, layout, padding and values; C's padding is NaN and must stay so. */
    record Problem(int m, int n, int k, boolean transposeB, boolean accumulate, int aOffset, int lda, int bOffset,
                   int ldb, int cOffset, int ldc, long seed) {
        @Override
        public String toString() {
            return "m=" + m + " n=" + n + " k=" + k + (transposeB ? " Bt" : " B") + (accumulate ? " +=" : " =")
                    + " offsets " + aOffset + "/" + bOffset + "/" + cOffset + " ld " + lda + "/" + ldb + "/" + ldc;
        }
    }

    static List<Named> kernels() {
        List<Named> kernels = new ArrayList<>();
        kernels.add(new Named("scalar", Sgemm::multiplyScalar));
        if (CpuCapabilities.vectorApiAvailable()) {
            kernels.add(new Named("vector", (m, n, k, a, ao, lda, b, bo, ldb, t, c, co, ldc, acc) ->
                    Sgemm.multiply(true, m, n, k, a, ao, lda, b, bo, ldb, t, c, co, ldc, acc)));
        }
        OpenBlas blas = OpenBlas.load();
        kernels.add(new Named("openblas", blas::sgemm));
        return kernels;
    }

    @Test
    void theVectorKernelIsTestedInThisJvm() {
        // The build runs tests with --add-modules jdk.incubator.vector; without it half of this class is vacuous.
        assertTrue(CpuCapabilities.vectorApiAvailable(), "jdk.incubator.vector is not in the test JVM's boot layer");
    }

    @Provide
    Arbitrary<Problem> problems() {
        Arbitrary<Integer> dim = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(1, 40)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(1, 300)));
        Arbitrary<Integer> pad = Arbitraries.integers().between(0, 5);
        Arbitrary<Boolean> flag = Arbitraries.of(true, false);
        return Combinators.combine(dim, dim, dim, flag, flag, pad.list().ofSize(6), Arbitraries.longs())
                .as((m, n, k, transposeB, accumulate, pads, seed) -> new Problem(m, n, k, transposeB, accumulate,
                        pads.get(0), k + pads.get(1), pads.get(2), (transposeB ? k : n) + pads.get(3),
                        pads.get(4), n + pads.get(5), seed));
    }

    @Property(tries = 60)
    void everyKernelMatchesTheDoubleReference(@ForAll("problems") Problem problem) {
        for (Named kernel : kernels()) {
            check(kernel, problem);
        }
    }

    @Test
    void blockEdgesMatchTheDoubleReference() {
        // Shapes across the Java kernel's k slices (256), column blocks (576 with AVX-512), row blocks (288) and
        // register tiles (4 × 96), a sentence's token counts around 128 (one row short of, at and past the last
        // whole register tile's edge), and the shapes the sparse convolution feeds it (few rows or columns, small k).
        int[][] shapes = {{1, 1, 1}, {12, 32, 256}, {13, 33, 257}, {289, 40, 513}, {13, 1030, 20}, {64, 16, 27},
            {256, 64, 16}, {200, 3, 64}, {5, 17, 1}, {1, 96, 384}, {127, 65, 385}, {128, 64, 384}, {129, 97, 130},
            {11, 31, 255}, {4, 96, 256}, {5, 97, 257}, {3, 95, 255}, {289, 600, 40}};
        SplittableRandom random = TestData.random("sgemm block edges");
        for (Named kernel : kernels()) {
            for (int[] s : shapes) {
                for (boolean transposeB : new boolean[] {false, true}) {
                    boolean accumulate = random.nextBoolean();
                    check(kernel, new Problem(s[0], s[1], s[2], transposeB, accumulate, 1, s[2] + 1, 2,
                            transposeB ? s[2] : s[1] + 3, 3, s[1] + 2, random.nextLong()));
                }
            }
        }
    }

    @Test
    void zeroDepthOverwritesWithZerosOrLeavesC() {
        for (Named kernel : kernels()) {
            for (boolean accumulate : new boolean[] {false, true}) {
                float[] c = {1f, 2f, 3f, 4f, Float.NaN};
                kernel.kernel().multiply(2, 2, 0, new float[0], 0, 1, new float[0], 0, 2, false, c, 0, 2, accumulate);
                float[] expected = accumulate ? new float[] {1f, 2f, 3f, 4f, Float.NaN}
                        : new float[] {0f, 0f, 0f, 0f, Float.NaN};
                assertArrayEquals(expected, c, kernel + " accumulate=" + accumulate);
            }
        }
    }

    /** The Java kernels' contract: the same element of C comes out bit for bit the same from any sub-block. */
    @Test
    void anElementsSumDependsOnKAlone() {
        SplittableRandom random = TestData.random("sgemm sum order");
        int m = 50;
        int n = 70;
        int k = 300;
        float[] a = TestData.uniform(random, m * k, 1f, org.lacuna.runtime.data.DType.F32);
        float[] b = TestData.uniform(random, n * k, 1f, org.lacuna.runtime.data.DType.F32);
        for (Named kernel : kernels()) {
            if (kernel.name().equals("openblas")) {
                continue; // OpenBLAS's order may depend on the shape; the CPU backend fixes its shapes instead.
            }
            float[] whole = new float[m * n];
            kernel.kernel().multiply(m, n, k, a, 0, k, b, 0, k, true, whole, 0, n, false);
            for (int trial = 0; trial < 20; trial++) {
                int row = random.nextInt(m);
                int col = random.nextInt(n);
                int rows = 1 + random.nextInt(m - row);
                int cols = 1 + random.nextInt(n - col);
                float[] part = new float[rows * cols + 1];
                kernel.kernel().multiply(rows, cols, k, a, row * k, k, b, col * k, k, true, part, 1, cols, false);
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        assertEquals(Float.floatToRawIntBits(whole[(row + i) * n + col + j]),
                                Float.floatToRawIntBits(part[1 + i * cols + j]),
                                kernel + " element (" + (row + i) + ", " + (col + j) + ") from the block at (" + row
                                        + ", " + col + ") of " + rows + "x" + cols);
                    }
                }
            }
        }
    }

    /**
     * A weight packed once gives the unpacked Vector API kernel's bits on every panel-aligned column block, across k
     * slices (256), column blocks (576 with AVX-512), row blocks (288) and a ragged last panel; C's padding and the
     * columns outside the block are left alone.
     */
    @Property(tries = 25)
    void aPackedWeightGivesTheUnpackedKernelsBits(@ForAll("packedShapes") int[] shape) {
        int m = shape[0];
        int n = shape[1];
        int k = shape[2];
        boolean accumulate = shape[3] == 1;
        int width = Sgemm.panelWidth(true);
        assertTrue(width > 0, "the Vector API kernel packs");
        SplittableRandom random = new SplittableRandom(shape[4]);
        float[] a = values(random, 1 + m * (k + 2));
        float[] b = values(random, n * k);
        float[] packed = Sgemm.packTransposed(n, k, b);
        int firstPanel = random.nextInt((n + width - 1) / width);
        int column = firstPanel * width;
        int cols = 1 + random.nextInt(n - column);
        float[] start = values(random, m * cols + 2);
        start[start.length - 1] = Float.NaN;
        float[] expected = start.clone();
        float[] actual = start.clone();
        Sgemm.multiply(true, m, cols, k, a, 1, k + 2, b, column * k, k, true, expected, 1, cols, accumulate);
        Sgemm.multiplyPacked(m, cols, k, a, 1, k + 2, packed, column, actual, 1, cols, accumulate);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    "element " + i + " of " + m + "x" + cols + " at column " + column + " of " + n + ", k " + k);
        }
    }

    /**
     * A 16-bit weight packed as its bits gives, for F16 and BF16 alike, the bits of the fp32 packed kernel over the
     * same weight widened (widening is exact), on the same shapes; C's padding and the columns outside the block are
     * left alone.
     */
    @Property(tries = 25)
    void aSixteenBitPackedWeightGivesTheWidenedWeightsBits(@ForAll("packedShapes") int[] shape) {
        int m = shape[0];
        int n = shape[1];
        int k = shape[2];
        boolean accumulate = shape[3] == 1;
        int width = Sgemm.panelWidth(true);
        SplittableRandom random = new SplittableRandom(shape[4]);
        float[] a = values(random, 1 + m * (k + 2));
        float[] source = values(random, n * k);
        int firstPanel = random.nextInt((n + width - 1) / width);
        int column = firstPanel * width;
        int cols = 1 + random.nextInt(n - column);
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            short[] bits = new short[n * k];
            float[] widened = new float[n * k];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = dtype == DType.F16 ? Float.floatToFloat16(source[i])
                        : (short) (Float.floatToRawIntBits(source[i]) >>> 16);
                widened[i] = dtype == DType.F16 ? Float.float16ToFloat(bits[i])
                        : Float.intBitsToFloat((bits[i] & 0xFFFF) << 16);
            }
            float[] start = values(random, m * cols + 2);
            start[start.length - 1] = Float.NaN;
            float[] expected = start.clone();
            float[] actual = start.clone();
            Sgemm.multiplyPacked(m, cols, k, a, 1, k + 2, Sgemm.packTransposed(n, k, widened), column, expected, 1,
                    cols, accumulate);
            Sgemm.multiplyPackedBits(m, cols, k, a, 1, k + 2, Sgemm.packTransposedBits(n, k, bits), dtype, column,
                    actual, 1, cols, accumulate);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), dtype
                        + " element " + i + " of " + m + "x" + cols + " at column " + column + " of " + n + ", k " + k);
            }
        }
    }

    @Test
    void everySixteenBitWeightWidensAsTheBackendsConversionsDo() {
        // All 65536 patterns (subnormals, infinities and NaN payloads included) as a one-deep weight times 1, added
        // to a C of -0 (fma(1, w, -0) is w exactly, the sign of a zero included): the packed kernel's own widening
        // gives the bits HalfFloats defines. (A NaN is quieted by the FMA on either side, so its payload's quiet bit
        // is not seen here; HalfConversionsTest checks the conversions themselves bit for bit.)
        int n = 1 << 16;
        short[] bits = new short[n];
        for (int i = 0; i < n; i++) {
            bits[i] = (short) i;
        }
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            float[] widened = new float[n];
            for (int i = 0; i < n; i++) {
                widened[i] = dtype == DType.F16 ? HalfFloats.fromF16(bits[i]) : HalfFloats.fromBf16(bits[i]);
            }
            float[] expected = new float[n];
            float[] actual = new float[n];
            java.util.Arrays.fill(expected, -0f);
            java.util.Arrays.fill(actual, -0f);
            Sgemm.multiplyPacked(1, n, 1, new float[] {1f}, 0, 1, Sgemm.packTransposed(n, 1, widened), 0, expected, 0,
                    n, true);
            Sgemm.multiplyPackedBits(1, n, 1, new float[] {1f}, 0, 1, Sgemm.packTransposedBits(n, 1, bits), dtype, 0,
                    actual, 0, n, true);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), dtype
                        + " bits 0x" + Integer.toHexString(i));
            }
        }
    }

    @Test
    void aSixteenBitPackedWeightIsF16OrBf16() {
        short[] packed = Sgemm.packTransposedBits(32, 8, new short[32 * 8]);
        assertThrows(IllegalArgumentException.class, () -> Sgemm.multiplyPackedBits(2, 8, 8, new float[16], 0, 8,
                packed, DType.F32, 0, new float[16], 0, 8, false));
    }

    @Provide
    Arbitrary<int[]> packedShapes() {
        Arbitrary<Integer> small = Arbitraries.integers().between(1, 40);
        Arbitrary<Integer> large = Arbitraries.integers().between(100, 1100);
        return Combinators.combine(Arbitraries.oneOf(small, Arbitraries.integers().between(120, 300)),
                Arbitraries.oneOf(small, large), Arbitraries.oneOf(small, Arbitraries.integers().between(250, 600)),
                Arbitraries.integers().between(0, 1), Arbitraries.integers())
                .as((m, n, k, acc, seed) -> new int[] {m, n, k, acc, seed});
    }

    @Test
    void packedColumnsMustStartAtAPanel() {
        float[] packed = Sgemm.packTransposed(64, 8, new float[64 * 8]);
        assertThrows(IllegalArgumentException.class, () -> Sgemm.multiplyPacked(2, 8, 8, new float[16], 0, 8,
                packed, 1, new float[16], 0, 8, false));
    }

    private static void check(Named kernel, Problem p) {
        SplittableRandom random = new SplittableRandom(p.seed());
        int aRows = p.m();
        int bRows = p.transposeB() ? p.n() : p.k();
        float[] a = values(random, p.aOffset() + Math.max(0, (aRows - 1) * p.lda() + p.k()));
        float[] b = values(random, p.bOffset() + Math.max(0, (bRows - 1) * p.ldb() + (p.transposeB() ? p.k() : p.n())));
        float[] c = new float[p.cOffset() + (p.m() - 1) * p.ldc() + p.n() + 3];
        Arrays.fill(c, Float.NaN);
        float[] start = values(random, p.m() * p.n());
        for (int i = 0; i < p.m(); i++) {
            for (int j = 0; j < p.n(); j++) {
                c[p.cOffset() + i * p.ldc() + j] = start[i * p.n() + j];
            }
        }
        kernel.kernel().multiply(p.m(), p.n(), p.k(), a, p.aOffset(), p.lda(), b, p.bOffset(), p.ldb(), p.transposeB(),
                c, p.cOffset(), p.ldc(), p.accumulate());
        for (int index = 0; index < c.length; index++) {
            int relative = index - p.cOffset();
            int i = Math.floorDiv(relative, p.ldc());
            int j = relative - i * p.ldc();
            boolean inside = relative >= 0 && i < p.m() && j < p.n();
            if (!inside) {
                assertTrue(Float.isNaN(c[index]), kernel + " wrote outside C at " + index + " for " + p);
                continue;
            }
            double sum = p.accumulate() ? start[i * p.n() + j] : 0.0;
            double magnitude = Math.abs(sum);
            for (int q = 0; q < p.k(); q++) {
                double product = (double) a[p.aOffset() + i * p.lda() + q]
                        * b[p.bOffset() + (p.transposeB() ? j * p.ldb() + q : q * p.ldb() + j)];
                sum += product;
                magnitude += Math.abs(product);
            }
            // fp32 summation of k + 1 terms: at most (k + 1) roundings of at most 2^-24 of the running magnitude.
            double tolerance = (p.k() + 1) * 0x1p-24 * magnitude + 1e-30;
            assertEquals(sum, c[index], tolerance, kernel + " at (" + i + ", " + j + ") for " + p);
        }
    }

    private static float[] values(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}

package org.lacuna.runtime.cpu.kernels;

import java.util.Arrays;
import org.lacuna.runtime.data.DType;

/**
 * The Vector API kernel behind {@link Sgemm#multiply}, laid out as BLIS does: B is packed into panels of
 * {@link #NR} columns for a {@link #KC}-deep slice of k (sized for L2), A into panels of {@link #MR} rows, and a
 * register tile of MR × NR accumulators (NR / lanes vectors per row) runs a fused multiply-add per p. Each element of C is
 * therefore {@code c = fma(a[p], b[p], c)} for p = 0 … k-1, starting from C or zero and stored between k slices
 * without rounding, whatever m, n, the offsets or the tile the element falls in: the contract of {@link Sgemm}.
 * Partial tiles at the edges of C run the same register tile on a zero-padded copy. With a B packed once
 * ({@link #multiplyPacked}, {@link #multiplyPackedBits}: a layer's weight) A is not packed: the tile reads its rows
 * where they lie, and a short tile repeats its last row (the copies compute the same values, stored over each other).
 * <p>
 * The register tile itself is generated at build time into {@code VectorSgemmTile}
 * (target/generated-sources/microkernels) by the emitter {@code codegen/src/org/lacuna/codegen/VectorSgemmTile.java},
 * which also fixes MR and NR: C2 keeps a vector in a register only as a named local, so the tile is straight-line
 * code, written once there as loops over its rows and vectors. This class keeps the packing and the blocking.
 * <p>
 * Only loaded when {@code jdk.incubator.vector} is in the boot layer. Packing buffers are per thread and reused.
 */
final class VectorSgemm {
    /** Rows of the register tile, fixed by its emitter (4 × 6 vector accumulators, six B vectors, one A broadcast). */
    static final int MR = VectorSgemmTile.MR;
    /** Columns of the register tile: six vectors. */
    static final int NR = VectorSgemmTile.NR;
    /**
     * Depth of one slice. A KC × NR panel of B (96 KiB with 512-bit vectors) streams from L2 past the row tiles that
     * share it; 256 measured best against 96, 128, 192 and 384 for MiniLM's 128-token shapes on Zen 4 (1 MiB L2,
     * 32 KiB L1d; ad hoc, one JVM, interleaved). The depth never changes the bits: C is fp32 between slices.
     */
    static final int KC = 256;
    /**
     * Columns of packed B per slice: KC × NC floats (576 KiB with 512-bit vectors) stay in a 1 MiB L2 beside an
     * MC × KC block of packed A (288 KiB).
     */
    static final int NC = 6 * NR;
    /**
     * Rows of A per block: 288, as many as the row tiles of a 12-row register tile had, so that at up to 288 tokens
     * each panel slice of a 16-bit B is widened once per call.
     */
    static final int MC = 72 * MR;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private VectorSgemm() {
    }

    static void multiply(int m, int n, int k, float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                         boolean transposeB, float[] c, int cOffset, int ldc, boolean accumulate) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if (k <= 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    Arrays.fill(c, cOffset + i * ldc, cOffset + i * ldc + n, 0f);
                }
            }
            return;
        }
        Scratch scratch = SCRATCH.get();
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int kcMax = Math.min(KC, k);
            float[] packedB = scratch.packedB(roundUp(nc, NR) * kcMax);
            float[] packedA = scratch.packedA(roundUp(Math.min(MC, m), MR) * kcMax);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                if (transposeB) {
                    packTransposedB(b, bOffset + jc * ldb + pc, ldb, kc, nc, packedB);
                } else {
                    packB(b, bOffset + pc * ldb + jc, ldb, kc, nc, packedB);
                }
                slice(m, nc, kc, a, aOffset + pc, lda, packedA, packedB, 0, NR * kc, c, cOffset + jc, ldc,
                        accumulate || pc > 0, scratch.edge);
            }
        }
    }

    /**
     * Bᵀ given as B[n × k] (row-major, a linear layer's [out, in] weight) packed once for {@link #multiplyPacked}:
     * panels of NR columns over the whole depth k, each k rows of NR floats, zero-padded past the last column. The
     * panel of one KC slice is then a contiguous part of it, laid out as {@link #packTransposedB} lays out a slice.
     */
    static float[] packTransposed(float[] b, int n, int k) {
        float[] packed = new float[Math.multiplyExact(roundUp(n, NR), k)];
        packRowPanels(b, 0, k, k, n, NR, packed);
        return packed;
    }

    /**
     * A 16-bit B[n × k] (F16 or BF16 bits, row-major [out, in]) packed into {@link #packTransposed}'s panels,
     * still 16-bit, for {@link #multiplyPackedBits}.
     */
    static short[] packTransposedBits(short[] b, int n, int k) {
        short[] packed = new short[Math.multiplyExact(roundUp(n, NR), k)];
        for (int jr = 0; jr < n; jr += NR) {
            int panelRows = Math.min(NR, n - jr);
            int panel = jr * k;
            for (int r = 0; r < panelRows; r++) {
                int from = (jr + r) * k;
                for (int p = 0, to = panel + r; p < k; p++, to += NR) {
                    packed[to] = b[from + p];
                }
            }
            // Past the last column the panel stays zero: 16-bit zero is +0.0 in F16 and BF16 alike.
        }
        return packed;
    }

    /**
     * {@link #multiply} with {@code transposeB} over columns {@code [firstColumn, firstColumn + n)} of a B packed by
     * {@link #packTransposed} with depth k: the same k slices in the same order, so the same bits, without packing B
     * on every call, and with A read in place ({@code VectorSgemmTile.tileInPlace}) rather than packed per call.
     * {@code firstColumn} must be a multiple of NR.
     */
    static void multiplyPacked(int m, int n, int k, float[] a, int aOffset, int lda, float[] packedB, int firstColumn,
                               float[] c, int cOffset, int ldc, boolean accumulate) {
        if (productLeft(m, n, k, a, aOffset, lda, firstColumn, c, cOffset, ldc, accumulate)) {
            packedProduct(m, n, k, a, aOffset, lda, packedB, null, null, firstColumn, c, cOffset, ldc, accumulate);
        }
    }

    /**
     * What both packed forms do before their product: refuse a first column off a panel boundary, and where the
     * product is empty ({@code m} or {@code n} zero) or has no depth ({@code k} zero: C zeroed, or kept where the call
     * accumulates) finish the call. True where the product is still to compute.
     */
    private static boolean productLeft(int m, int n, int k, float[] a, int aOffset, int lda, int firstColumn,
                                       float[] c, int cOffset, int ldc, boolean accumulate) {
        if (firstColumn % NR != 0) {
            throw new IllegalArgumentException("packed columns start at a panel boundary (" + NR + "), not at "
                    + firstColumn);
        }
        if (m <= 0 || n <= 0) {
            return false;
        }
        if (k <= 0) {
            multiply(m, n, k, a, aOffset, lda, new float[0], 0, 1, true, c, cOffset, ldc, accumulate);
            return false;
        }
        return true;
    }

    /**
     * {@link #multiplyPacked} over a 16-bit B ({@code dtype} F16 or BF16) packed by {@link #packTransposedBits}:
     * each panel's slice is widened into a per-thread buffer of KC × NR floats (which stays in L2 while every row
     * tile of A passes over it) just before its tiles run ({@link VectorHalfConversions#widenBits}: plain loops C2
     * vectorises, 0.17 instead of 0.26 ns per element from memory on Zen 4 against integer lanes; ad hoc). Widening
     * is exact, so the bits are those of {@link #multiplyPacked} over the widened weight; the weight read from memory
     * on every call is half the size, which is what a layer whose weights do not stay in cache between calls waits
     * for.
     */
    static void multiplyPackedBits(int m, int n, int k, float[] a, int aOffset, int lda, short[] packedBits,
                                   DType dtype, int firstColumn, float[] c, int cOffset, int ldc, boolean accumulate) {
        if (productLeft(m, n, k, a, aOffset, lda, firstColumn, c, cOffset, ldc, accumulate)) {
            packedProduct(m, n, k, a, aOffset, lda, null, packedBits, dtype, firstColumn, c, cOffset, ldc, accumulate);
        }
    }

    /** The k slices and column blocks of a packed product over either an fp32 B or a 16-bit one (the other null). */
    private static void packedProduct(int m, int n, int k, float[] a, int aOffset, int lda, float[] packedB,
                                      short[] packedBits, DType dtype, int firstColumn, float[] c, int cOffset,
                                      int ldc, boolean accumulate) {
        Scratch scratch = SCRATCH.get();
        int panelFloats = NR * k;
        int firstPanel = firstColumn / NR;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                // jc is a whole number of panels (NC is), so panel jr of this slice is the stored panel after it.
                int bStart = (firstPanel + jc / NR) * panelFloats + pc * NR;
                sliceInPlace(m, nc, kc, a, aOffset + pc, lda, packedB, packedBits, dtype, bStart, panelFloats, c,
                        cOffset + jc, ldc, accumulate || pc > 0, scratch);
            }
        }
    }

    /**
     * {@link #slice} with A read in place: MC rows at a time (so a block of A's slice stays in L2 while every panel
     * of B passes over it), each register tile reading its rows of A where they lie.
     */
    private static void sliceInPlace(int m, int nc, int kc, float[] a, int aStart, int lda, float[] packedB,
                                     short[] packedBits, DType dtype, int bStart, int panelStride, float[] c,
                                     int cStart, int ldc, boolean load, Scratch scratch) {
        float[] edge = scratch.edge;
        for (int ic = 0; ic < m; ic += MC) {
            int mc = Math.min(MC, m - ic);
            for (int jr = 0; jr < nc; jr += NR) {
                int cols = Math.min(NR, nc - jr);
                int bPanel = bStart + jr / NR * panelStride;
                float[] panels = packedB;
                if (packedBits != null) {
                    panels = scratch.widenedB(KC * NR);
                    VectorHalfConversions.widenBits(packedBits, bPanel, dtype, panels, 0, kc * NR);
                    bPanel = 0;
                }
                for (int ir = 0; ir < mc; ir += MR) {
                    int rows = Math.min(MR, mc - ir);
                    int aTile = aStart + (ic + ir) * lda;
                    int cTile = cStart + (ic + ir) * ldc + jr;
                    if (cols == NR) {
                        VectorSgemmTile.tileInPlace(kc, a, aTile, lda, rows, panels, bPanel, c, cTile, ldc, load);
                    } else {
                        // A ragged last panel: the tile on a padded copy of the valid columns of C.
                        if (load) {
                            for (int r = 0; r < rows; r++) {
                                System.arraycopy(c, cTile + r * ldc, edge, r * NR, cols);
                            }
                        }
                        VectorSgemmTile.tileInPlace(kc, a, aTile, lda, rows, panels, bPanel, edge, 0, NR, load);
                        for (int r = 0; r < rows; r++) {
                            System.arraycopy(edge, r * NR, c, cTile + r * ldc, cols);
                        }
                    }
                }
            }
        }
    }

    /**
     * One kc-deep slice of A's columns against nc columns of packed B: A packed MC rows at a time, then every register
     * tile of the block. Panel {@code j} of B (columns {@code [j·NR, (j+1)·NR)}) starts at
     * {@code bStart + j · panelStride} of {@code packedB}, each kc rows of NR floats.
     */
    private static void slice(int m, int nc, int kc, float[] a, int aStart, int lda, float[] packedA, float[] packedB,
                              int bStart, int panelStride, float[] c, int cStart, int ldc, boolean load,
                              float[] edge) {
        for (int ic = 0; ic < m; ic += MC) {
            int mc = Math.min(MC, m - ic);
            packA(a, aStart + ic * lda, lda, kc, mc, packedA);
            for (int jr = 0; jr < nc; jr += NR) {
                int cols = Math.min(NR, nc - jr);
                int bPanel = bStart + jr / NR * panelStride;
                for (int ir = 0; ir < mc; ir += MR) {
                    int rows = Math.min(MR, mc - ir);
                    int aPanel = ir * kc;
                    int cTile = cStart + (ic + ir) * ldc + jr;
                    if (rows == MR && cols == NR) {
                        VectorSgemmTile.tile(kc, packedA, aPanel, packedB, bPanel, c, cTile, ldc, load);
                    } else {
                        edgeTile(kc, packedA, aPanel, packedB, bPanel, c, cTile, ldc, rows, cols, load, edge);
                    }
                }
            }
        }
    }

    /** A partial tile: the full register tile on a padded copy of the valid rows and columns of C. */
    private static void edgeTile(int kc, float[] packedA, int aPanel, float[] packedB, int bPanel, float[] c,
                                 int cTile, int ldc, int rows, int cols, boolean load, float[] edge) {
        if (load) {
            for (int r = 0; r < rows; r++) {
                System.arraycopy(c, cTile + r * ldc, edge, r * NR, cols);
            }
        }
        VectorSgemmTile.tile(kc, packedA, aPanel, packedB, bPanel, edge, 0, NR, load);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(edge, r * NR, c, cTile + r * ldc, cols);
        }
    }

    /** B[kc × nc] (row stride ldb) into panels of NR columns, each kc rows of NR floats, zero-padded on the right. */
    private static void packB(float[] b, int start, int ldb, int kc, int nc, float[] packed) {
        for (int jr = 0; jr < nc; jr += NR) {
            int cols = Math.min(NR, nc - jr);
            int panel = jr * kc;
            for (int p = 0; p < kc; p++) {
                int to = panel + p * NR;
                System.arraycopy(b, start + p * ldb + jr, packed, to, cols);
                if (cols < NR) {
                    Arrays.fill(packed, to + cols, to + NR, 0f);
                }
            }
        }
    }

    /** Bᵀ given as B[nc × kc] (row stride ldb) into the same panels as {@link #packB}. */
    private static void packTransposedB(float[] b, int start, int ldb, int kc, int nc, float[] packed) {
        packRowPanels(b, start, ldb, kc, nc, NR, packed);
    }

    /** A[mc × kc] (row stride lda) into panels of MR rows, each kc columns of MR floats, zero-padded below. */
    private static void packA(float[] a, int start, int lda, int kc, int mc, float[] packed) {
        packRowPanels(a, start, lda, kc, mc, MR, packed);
    }

    /**
     * {@code rows} rows of kc floats (row stride {@code stride}) into panels of {@code width} rows, each kc columns of
     * {@code width} floats, zero-padded past the last row: A's panels (width MR) and Bᵀ's (width NR) alike.
     */
    private static void packRowPanels(float[] src, int start, int stride, int kc, int rows, int width,
                                      float[] packed) {
        for (int ir = 0; ir < rows; ir += width) {
            int panelRows = Math.min(width, rows - ir);
            int panel = ir * kc;
            for (int r = 0; r < panelRows; r++) {
                int from = start + (ir + r) * stride;
                for (int p = 0, to = panel + r; p < kc; p++, to += width) {
                    packed[to] = src[from + p];
                }
            }
            for (int r = panelRows; r < width; r++) {
                for (int p = 0, to = panel + r; p < kc; p++, to += width) {
                    packed[to] = 0f;
                }
            }
        }
    }

    private static int roundUp(int value, int multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }

    /** One thread's packing buffers, grown to the largest slice it has packed. */
    private static final class Scratch {
        final float[] edge = new float[MR * NR];
        private float[] packedA = new float[0];
        private float[] packedB = new float[0];
        private float[] widenedB = new float[0];

        float[] packedA(int size) {
            if (packedA.length < size) {
                packedA = new float[size];
            }
            return packedA;
        }

        /** One panel's k slice of a 16-bit B, widened. */
        float[] widenedB(int size) {
            if (widenedB.length < size) {
                widenedB = new float[size];
            }
            return widenedB;
        }

        float[] packedB(int size) {
            if (packedB.length < size) {
                packedB = new float[size];
            }
            return packedB;
        }
    }
}

package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link TileGemm} on the Vector API, for the small cache-resident tiles of the fused sparse convolution, which are
 * used once: A and B are read in place (packing B for a tile of a few dozen gathered rows costs more than it saves)
 * and the product is added straight into the scattered accumulator rows, so no product tile is written and read back.
 *
 * <p>Register blocks of 16 accumulators, enough independent FMA chains to cover the FMA latency on both ports:
 * 4 rows × 4 vectors on wide outputs, then 8 rows × 2 vectors, then 6 rows × 1 vector; B streamed row by row, A
 * broadcast element by element. (Larger blocks, 6 × 4 with the accumulator loads and stores, pass C2's inlining
 * budget: part of the Vector API calls stay calls and every vector is boxed, hundreds of times slower.) A block with fewer rows left than it holds repeats its last row (same A row, same C
 * row: both copies compute the same bits from the same start and store them to the same place), which costs the
 * idle lanes' FMAs but keeps every row on a full-width block rather than a latency-bound one-row loop. Columns past
 * the last whole vector take a scalar {@link Math#fma} loop: every element is the same chain of FMAs over k wherever
 * it falls. Only loaded when the backend runs with the Vector API.
 */
public final class VectorTileGemm implements TileGemm {
    public static final VectorTileGemm INSTANCE = new VectorTileGemm();
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * Rows of B one pass of a register block runs over: a 4-vector panel of 64 rows is 16 KiB, kept in L1 while every
     * row block of the tile uses it, where a whole panel of a wide layer (384 rows) would stream from L2 for each.
     */
    static final int DEPTH = 64;

    private VectorTileGemm() {
    }

    @Override
    public void accumulate(int m, int n, int k, float[] a, int lda, float[] b, int bOffset, int ldb, float[] c,
                           int[] rows) {
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) {
            for (int p = 0; p < k; p += DEPTH) {
                int depth = Math.min(DEPTH, k - p);
                for (int i = 0; i < m; i += 4) {
                    rows4x4(depth, a, lda, p, i, Math.min(4, m - i), b, bOffset + p * ldb + j, ldb, c, rows, j);
                }
            }
        }
        for (; j + 2 * L <= n; j += 2 * L) {
            for (int p = 0; p < k; p += DEPTH) {
                int depth = Math.min(DEPTH, k - p);
                for (int i = 0; i < m; i += 8) {
                    rows8x2(depth, a, lda, p, i, Math.min(8, m - i), b, bOffset + p * ldb + j, ldb, c, rows, j);
                }
            }
        }
        for (; j + L <= n; j += L) {
            for (int p = 0; p < k; p += DEPTH) {
                int depth = Math.min(DEPTH, k - p);
                for (int i = 0; i < m; i += 6) {
                    rows6x1(depth, a, lda, p, i, Math.min(6, m - i), b, bOffset + p * ldb + j, ldb, c, rows, j);
                }
            }
        }
        for (; j < n; j++) {
            for (int i = 0; i < m; i++) {
                int ai = i * lda;
                int ci = rows[i] + j;
                float acc = c[ci];
                for (int p = 0; p < k; p++) {
                    acc = Math.fma(a[ai + p], b[bOffset + p * ldb + j], acc);
                }
                c[ci] = acc;
            }
        }
    }

    private static void rows4x4(int k, float[] a, int lda, int column, int first, int count, float[] b,
                                int bAt, int ldb, float[] c, int[] rows, int col) {
        int last = first + count - 1;
        int a0 = first * lda + column;
        int a1 = Math.min(first + 1, last) * lda + column;
        int a2 = Math.min(first + 2, last) * lda + column;
        int a3 = last * lda + column;
        int r0 = rows[first] + col;
        int r1 = rows[Math.min(first + 1, last)] + col;
        int r2 = rows[Math.min(first + 2, last)] + col;
        int r3 = rows[last] + col;
        FloatVector c00 = load(c, r0), c01 = load(c, r0 + L), c02 = load(c, r0 + 2 * L), c03 = load(c, r0 + 3 * L);
        FloatVector c10 = load(c, r1), c11 = load(c, r1 + L), c12 = load(c, r1 + 2 * L), c13 = load(c, r1 + 3 * L);
        FloatVector c20 = load(c, r2), c21 = load(c, r2 + L), c22 = load(c, r2 + 2 * L), c23 = load(c, r2 + 3 * L);
        FloatVector c30 = load(c, r3), c31 = load(c, r3 + L), c32 = load(c, r3 + 2 * L), c33 = load(c, r3 + 3 * L);
        for (int p = 0; p < k; p++) {
            int bp = bAt + p * ldb;
            FloatVector b0 = load(b, bp);
            FloatVector b1 = load(b, bp + L);
            FloatVector b2 = load(b, bp + 2 * L);
            FloatVector b3 = load(b, bp + 3 * L);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + p]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            c02 = b2.fma(x0, c02);
            c03 = b3.fma(x0, c03);
            FloatVector x1 = FloatVector.broadcast(S, a[a1 + p]);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            c12 = b2.fma(x1, c12);
            c13 = b3.fma(x1, c13);
            FloatVector x2 = FloatVector.broadcast(S, a[a2 + p]);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            c22 = b2.fma(x2, c22);
            c23 = b3.fma(x2, c23);
            FloatVector x3 = FloatVector.broadcast(S, a[a3 + p]);
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
            c32 = b2.fma(x3, c32);
            c33 = b3.fma(x3, c33);
        }
        store4(c30, c31, c32, c33, c, r3);
        store4(c20, c21, c22, c23, c, r2);
        store4(c10, c11, c12, c13, c, r1);
        store4(c00, c01, c02, c03, c, r0);
    }

    private static void rows8x2(int k, float[] a, int lda, int column, int first, int count, float[] b,
                                int bAt, int ldb, float[] c, int[] rows, int col) {
        int last = first + count - 1;
        int a0 = first * lda + column;
        int a1 = Math.min(first + 1, last) * lda + column;
        int a2 = Math.min(first + 2, last) * lda + column;
        int a3 = Math.min(first + 3, last) * lda + column;
        int a4 = Math.min(first + 4, last) * lda + column;
        int a5 = Math.min(first + 5, last) * lda + column;
        int a6 = Math.min(first + 6, last) * lda + column;
        int a7 = last * lda + column;
        int r0 = rows[first] + col;
        int r1 = rows[Math.min(first + 1, last)] + col;
        int r2 = rows[Math.min(first + 2, last)] + col;
        int r3 = rows[Math.min(first + 3, last)] + col;
        int r4 = rows[Math.min(first + 4, last)] + col;
        int r5 = rows[Math.min(first + 5, last)] + col;
        int r6 = rows[Math.min(first + 6, last)] + col;
        int r7 = rows[last] + col;
        FloatVector c00 = load(c, r0), c01 = load(c, r0 + L), c10 = load(c, r1), c11 = load(c, r1 + L);
        FloatVector c20 = load(c, r2), c21 = load(c, r2 + L), c30 = load(c, r3), c31 = load(c, r3 + L);
        FloatVector c40 = load(c, r4), c41 = load(c, r4 + L), c50 = load(c, r5), c51 = load(c, r5 + L);
        FloatVector c60 = load(c, r6), c61 = load(c, r6 + L), c70 = load(c, r7), c71 = load(c, r7 + L);
        for (int p = 0; p < k; p++) {
            int bp = bAt + p * ldb;
            FloatVector b0 = load(b, bp);
            FloatVector b1 = load(b, bp + L);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + p]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            FloatVector x1 = FloatVector.broadcast(S, a[a1 + p]);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            FloatVector x2 = FloatVector.broadcast(S, a[a2 + p]);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            FloatVector x3 = FloatVector.broadcast(S, a[a3 + p]);
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
            FloatVector x4 = FloatVector.broadcast(S, a[a4 + p]);
            c40 = b0.fma(x4, c40);
            c41 = b1.fma(x4, c41);
            FloatVector x5 = FloatVector.broadcast(S, a[a5 + p]);
            c50 = b0.fma(x5, c50);
            c51 = b1.fma(x5, c51);
            FloatVector x6 = FloatVector.broadcast(S, a[a6 + p]);
            c60 = b0.fma(x6, c60);
            c61 = b1.fma(x6, c61);
            FloatVector x7 = FloatVector.broadcast(S, a[a7 + p]);
            c70 = b0.fma(x7, c70);
            c71 = b1.fma(x7, c71);
        }
        store2(c70, c71, c, r7);
        store2(c60, c61, c, r6);
        store2(c50, c51, c, r5);
        store2(c40, c41, c, r4);
        store2(c30, c31, c, r3);
        store2(c20, c21, c, r2);
        store2(c10, c11, c, r1);
        store2(c00, c01, c, r0);
    }

    private static void rows6x1(int k, float[] a, int lda, int column, int first, int count, float[] b,
                                int bAt, int ldb, float[] c, int[] rows, int col) {
        int last = first + count - 1;
        int a0 = first * lda + column;
        int a1 = Math.min(first + 1, last) * lda + column;
        int a2 = Math.min(first + 2, last) * lda + column;
        int a3 = Math.min(first + 3, last) * lda + column;
        int a4 = Math.min(first + 4, last) * lda + column;
        int a5 = last * lda + column;
        int r0 = rows[first] + col;
        int r1 = rows[Math.min(first + 1, last)] + col;
        int r2 = rows[Math.min(first + 2, last)] + col;
        int r3 = rows[Math.min(first + 3, last)] + col;
        int r4 = rows[Math.min(first + 4, last)] + col;
        int r5 = rows[last] + col;
        FloatVector c0 = load(c, r0), c1 = load(c, r1), c2 = load(c, r2);
        FloatVector c3 = load(c, r3), c4 = load(c, r4), c5 = load(c, r5);
        for (int p = 0; p < k; p++) {
            FloatVector b0 = load(b, bAt + p * ldb);
            c0 = b0.fma(FloatVector.broadcast(S, a[a0 + p]), c0);
            c1 = b0.fma(FloatVector.broadcast(S, a[a1 + p]), c1);
            c2 = b0.fma(FloatVector.broadcast(S, a[a2 + p]), c2);
            c3 = b0.fma(FloatVector.broadcast(S, a[a3 + p]), c3);
            c4 = b0.fma(FloatVector.broadcast(S, a[a4 + p]), c4);
            c5 = b0.fma(FloatVector.broadcast(S, a[a5 + p]), c5);
        }
        c5.intoArray(c, r5);
        c4.intoArray(c, r4);
        c3.intoArray(c, r3);
        c2.intoArray(c, r2);
        c1.intoArray(c, r1);
        c0.intoArray(c, r0);
    }

    private static FloatVector load(float[] array, int at) {
        return FloatVector.fromArray(S, array, at);
    }

    private static void store4(FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3, float[] c, int at) {
        v0.intoArray(c, at);
        v1.intoArray(c, at + L);
        v2.intoArray(c, at + 2 * L);
        v3.intoArray(c, at + 3 * L);
    }

    private static void store2(FloatVector v0, FloatVector v1, float[] c, int at) {
        v0.intoArray(c, at);
        v1.intoArray(c, at + L);
    }
}

package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link TileGemm} on the Vector API, for the small cache-resident tiles of the fused kernels, which are used once:
 * unlike {@link Sgemm}'s packed kernel it reads A and B in place (packing B for a tile of a few dozen gathered rows
 * costs more than it saves: 1.2-6x faster than {@code Sgemm.multiply} at m ≤ 128 on this machine), and it computes
 * the same bits, one fused multiply-add per p from zero. Register blocks of
 * 4 rows × 4 vectors (wide outputs) or 8 rows × 2 vectors (32-wide at AVX-512), B streamed row by row, A broadcast
 * element by element, one fused multiply-add per product; leftover rows take the same column kernels one row at a
 * time and leftover columns a scalar {@link Math#fma} loop, so every element is the same chain of FMAs over k
 * wherever it falls. Only loaded when the backend runs with the Vector API.
 */
public final class VectorTileGemm implements TileGemm {
    public static final VectorTileGemm INSTANCE = new VectorTileGemm();
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorTileGemm() {
    }

    @Override
    public void multiply(int m, int n, int k, float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                         float[] c, int cOffset, int ldc) {
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) {
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                rows4x4(k, a, aOffset + i * lda, lda, b, bOffset + j, ldb, c, cOffset + i * ldc + j, ldc);
            }
            for (; i < m; i++) {
                row1(4, k, a, aOffset + i * lda, b, bOffset + j, ldb, c, cOffset + i * ldc + j);
            }
        }
        for (; j + 2 * L <= n; j += 2 * L) {
            int i = 0;
            for (; i + 8 <= m; i += 8) {
                rows8x2(k, a, aOffset + i * lda, lda, b, bOffset + j, ldb, c, cOffset + i * ldc + j, ldc);
            }
            for (; i < m; i++) {
                row1(2, k, a, aOffset + i * lda, b, bOffset + j, ldb, c, cOffset + i * ldc + j);
            }
        }
        for (; j + L <= n; j += L) {
            for (int i = 0; i < m; i++) {
                row1(1, k, a, aOffset + i * lda, b, bOffset + j, ldb, c, cOffset + i * ldc + j);
            }
        }
        for (; j < n; j++) {
            for (int i = 0; i < m; i++) {
                float acc = 0f;
                int ai = aOffset + i * lda;
                for (int p = 0; p < k; p++) {
                    acc = Math.fma(a[ai + p], b[bOffset + p * ldb + j], acc);
                }
                c[cOffset + i * ldc + j] = acc;
            }
        }
    }

    private static void rows4x4(int k, float[] a, int aAt, int lda, float[] b, int bAt, int ldb, float[] c, int cAt,
                                int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int p = 0; p < k; p++) {
            int bp = bAt + p * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bp + 2 * L);
            FloatVector b3 = FloatVector.fromArray(S, b, bp + 3 * L);
            FloatVector a0 = FloatVector.broadcast(S, a[aAt + p]);
            c00 = b0.fma(a0, c00);
            c01 = b1.fma(a0, c01);
            c02 = b2.fma(a0, c02);
            c03 = b3.fma(a0, c03);
            FloatVector a1 = FloatVector.broadcast(S, a[aAt + lda + p]);
            c10 = b0.fma(a1, c10);
            c11 = b1.fma(a1, c11);
            c12 = b2.fma(a1, c12);
            c13 = b3.fma(a1, c13);
            FloatVector a2 = FloatVector.broadcast(S, a[aAt + 2 * lda + p]);
            c20 = b0.fma(a2, c20);
            c21 = b1.fma(a2, c21);
            c22 = b2.fma(a2, c22);
            c23 = b3.fma(a2, c23);
            FloatVector a3 = FloatVector.broadcast(S, a[aAt + 3 * lda + p]);
            c30 = b0.fma(a3, c30);
            c31 = b1.fma(a3, c31);
            c32 = b2.fma(a3, c32);
            c33 = b3.fma(a3, c33);
        }
        store4(c00, c01, c02, c03, c, cAt);
        store4(c10, c11, c12, c13, c, cAt + ldc);
        store4(c20, c21, c22, c23, c, cAt + 2 * ldc);
        store4(c30, c31, c32, c33, c, cAt + 3 * ldc);
    }

    private static void store4(FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3, float[] c, int at) {
        v0.intoArray(c, at);
        v1.intoArray(c, at + L);
        v2.intoArray(c, at + 2 * L);
        v3.intoArray(c, at + 3 * L);
    }

    private static void rows8x2(int k, float[] a, int aAt, int lda, float[] b, int bAt, int ldb, float[] c, int cAt,
                                int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00;
        FloatVector c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00;
        FloatVector c71 = c00;
        for (int p = 0; p < k; p++) {
            int bp = bAt + p * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            int ap = aAt + p;
            FloatVector a0 = FloatVector.broadcast(S, a[ap]);
            c00 = b0.fma(a0, c00);
            c01 = b1.fma(a0, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[ap + lda]);
            c10 = b0.fma(a1, c10);
            c11 = b1.fma(a1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[ap + 2 * lda]);
            c20 = b0.fma(a2, c20);
            c21 = b1.fma(a2, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[ap + 3 * lda]);
            c30 = b0.fma(a3, c30);
            c31 = b1.fma(a3, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[ap + 4 * lda]);
            c40 = b0.fma(a4, c40);
            c41 = b1.fma(a4, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[ap + 5 * lda]);
            c50 = b0.fma(a5, c50);
            c51 = b1.fma(a5, c51);
            FloatVector a6 = FloatVector.broadcast(S, a[ap + 6 * lda]);
            c60 = b0.fma(a6, c60);
            c61 = b1.fma(a6, c61);
            FloatVector a7 = FloatVector.broadcast(S, a[ap + 7 * lda]);
            c70 = b0.fma(a7, c70);
            c71 = b1.fma(a7, c71);
        }
        store2(c00, c01, c, cAt);
        store2(c10, c11, c, cAt + ldc);
        store2(c20, c21, c, cAt + 2 * ldc);
        store2(c30, c31, c, cAt + 3 * ldc);
        store2(c40, c41, c, cAt + 4 * ldc);
        store2(c50, c51, c, cAt + 5 * ldc);
        store2(c60, c61, c, cAt + 6 * ldc);
        store2(c70, c71, c, cAt + 7 * ldc);
    }

    private static void store2(FloatVector v0, FloatVector v1, float[] c, int at) {
        v0.intoArray(c, at);
        v1.intoArray(c, at + L);
    }

    /** One row of A against {@code vectors} vectors of B's columns: the leftovers of the blocked kernels. */
    private static void row1(int vectors, int k, float[] a, int aAt, float[] b, int bAt, int ldb, float[] c,
                             int cAt) {
        for (int v = 0; v < vectors; v++) {
            FloatVector acc = FloatVector.zero(S);
            int col = bAt + v * L;
            for (int p = 0; p < k; p++) {
                acc = FloatVector.fromArray(S, b, col + p * ldb).fma(FloatVector.broadcast(S, a[aAt + p]), acc);
            }
            acc.intoArray(c, cAt + v * L);
        }
    }
}

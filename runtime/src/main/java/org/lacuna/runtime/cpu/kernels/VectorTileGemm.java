package org.lacuna.runtime.cpu.kernels;

import static org.lacuna.runtime.cpu.kernels.VectorTileGemmBlocks.rows4x4;
import static org.lacuna.runtime.cpu.kernels.VectorTileGemmBlocks.rows6x1;
import static org.lacuna.runtime.cpu.kernels.VectorTileGemmBlocks.rows8x2;

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
 *
 * <p>The register blocks themselves ({@code rows4x4}, {@code rows8x2}, {@code rows6x1}) are generated at build time
 * into {@code VectorTileGemmBlocks} (target/generated-sources/microkernels) by the emitter
 * {@code codegen/src/org/lacuna/codegen/VectorTileGemmBlocks.java}: C2 keeps a vector in a register only as a named
 * local, so each block is straight-line code, written once there as loops over its rows and vectors. This class keeps
 * the blocking over columns, depth and rows.
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
}

package org.lacuna.runtime.cpu.kernels;

import org.lacuna.runtime.data.DType;

/**
 * Single-threaded fp32 GEMM on row-major Java arrays, the building block that the CPU ops split over their threads:
 * {@code C[m×n] (+)= A[m×k] · op(B)} where {@code op(B)} is {@code B[k×n]} or, transposed, {@code B[n×k]ᵀ}. fp32
 * accumulation; the order in which one element of C is summed depends on k alone, never on m, n, the offsets or how
 * the caller split the work, so results do not depend on the thread count.
 * <p>
 * Two kernels keep that contract: {@link #multiply} runs the Vector API kernel ({@link VectorSgemm}: packed panels,
 * register tiles, fused multiply-add in p order) when {@code jdk.incubator.vector} is in the boot layer, else
 * {@link #multiplyScalar} (multiply then add, p order). The two round differently, so compare results within one
 * kernel; the CPU backend picks one per backend ({@code CpuContext.vectorApi()}) through {@link #multiply}.
 */
public final class Sgemm {

    private Sgemm() {
    }

    /**
     * The Vector API kernel when {@code vectorApi} is true and the JVM has the module, the scalar kernel otherwise.
     * The Vector API classes are only loaded on the first vector call, so a JVM without the module never sees them.
     */
    public static void multiply(boolean vectorApi, int m, int n, int k, float[] a, int aOffset, int lda,
                                float[] b, int bOffset, int ldb, boolean transposeB,
                                float[] c, int cOffset, int ldc, boolean accumulate) {
        if (vectorApi && VectorModule.present()) {
            VectorSgemm.multiply(m, n, k, a, aOffset, lda, b, bOffset, ldb, transposeB, c, cOffset, ldc, accumulate);
        } else {
            multiplyScalar(m, n, k, a, aOffset, lda, b, bOffset, ldb, transposeB, c, cOffset, ldc, accumulate);
        }
    }

    /**
     * Columns per panel of a B packed by {@link #packTransposed} (a multiple of the vector length), or 0 where the
     * Vector API kernel cannot serve ({@code vectorApi} false or the module missing): then nothing is packed.
     */
    public static int panelWidth(boolean vectorApi) {
        return vectorApi && VectorModule.present() ? VectorSgemm.NR : 0;
    }

    /**
     * A linear layer's weight B[n × k] (row-major [out, in]) packed once into the Vector API kernel's panels, for
     * {@link #multiplyPacked}: what {@link #multiply} with {@code transposeB} packs on every call. Only where
     * {@link #panelWidth} is positive.
     */
    public static float[] packTransposed(int n, int k, float[] b) {
        requireVectorKernel();
        return VectorSgemm.packTransposed(b, n, k);
    }

    /**
     * {@code C[m×n] (+)= A[m×k] · B[firstColumn .. firstColumn + n)ᵀ} over a B packed by {@link #packTransposed}: the
     * same bits as {@link #multiply} on the unpacked B with {@code vectorApi} and {@code transposeB}. {@code
     * firstColumn} must be a multiple of {@link #panelWidth}.
     */
    public static void multiplyPacked(int m, int n, int k, float[] a, int aOffset, int lda, float[] packedB,
                                      int firstColumn, float[] c, int cOffset, int ldc, boolean accumulate) {
        requireVectorKernel();
        VectorSgemm.multiplyPacked(m, n, k, a, aOffset, lda, packedB, firstColumn, c, cOffset, ldc, accumulate);
    }

    /**
     * A 16-bit weight B[n × k] (F16 or BF16 bits, row-major [out, in]) packed once into {@link #packTransposed}'s
     * panels, kept 16-bit, for {@link #multiplyPackedBits}. Only where {@link #panelWidth} is positive.
     */
    public static short[] packTransposedBits(int n, int k, short[] b) {
        requireVectorKernel();
        return VectorSgemm.packTransposedBits(b, n, k);
    }

    /**
     * {@link #multiplyPacked} over a weight packed by {@link #packTransposedBits} ({@code dtype} F16 or BF16): the
     * same bits as {@link #multiplyPacked} over the widened weight, reading half the bytes of it.
     */
    public static void multiplyPackedBits(int m, int n, int k, float[] a, int aOffset, int lda, short[] packedB,
                                          DType dtype, int firstColumn, float[] c, int cOffset, int ldc,
                                          boolean accumulate) {
        requireVectorKernel();
        if (dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("a 16-bit packed weight is F16 or BF16, not " + dtype);
        }
        VectorSgemm.multiplyPackedBits(m, n, k, a, aOffset, lda, packedB, dtype, firstColumn, c, cOffset, ldc,
                accumulate);
    }

    private static void requireVectorKernel() {
        if (!VectorModule.present()) {
            throw new IllegalStateException("packed weights need the Vector API kernel (jdk.incubator.vector)");
        }
    }

    /** The portable kernel: for each element, {@code acc = acc + a·b} for p = 0 … k-1, in plain Java arithmetic. */
    public static void multiplyScalar(int m, int n, int k, float[] a, int aOffset, int lda, float[] b, int bOffset,
                                      int ldb, boolean transposeB, float[] c, int cOffset, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            int aRow = aOffset + i * lda;
            int cRow = cOffset + i * ldc;
            if (transposeB) {
                int j = 0;
                // Four columns at once: four independent sums keep the adder busy; each still runs in p order.
                for (; j + 4 <= n; j += 4) {
                    float acc0 = accumulate ? c[cRow + j] : 0f;
                    float acc1 = accumulate ? c[cRow + j + 1] : 0f;
                    float acc2 = accumulate ? c[cRow + j + 2] : 0f;
                    float acc3 = accumulate ? c[cRow + j + 3] : 0f;
                    int b0 = bOffset + j * ldb;
                    int b1 = b0 + ldb;
                    int b2 = b1 + ldb;
                    int b3 = b2 + ldb;
                    for (int p = 0; p < k; p++) {
                        float ap = a[aRow + p];
                        acc0 += ap * b[b0 + p];
                        acc1 += ap * b[b1 + p];
                        acc2 += ap * b[b2 + p];
                        acc3 += ap * b[b3 + p];
                    }
                    c[cRow + j] = acc0;
                    c[cRow + j + 1] = acc1;
                    c[cRow + j + 2] = acc2;
                    c[cRow + j + 3] = acc3;
                }
                for (; j < n; j++) {
                    float acc = accumulate ? c[cRow + j] : 0f;
                    int bRow = bOffset + j * ldb;
                    for (int p = 0; p < k; p++) {
                        acc += a[aRow + p] * b[bRow + p];
                    }
                    c[cRow + j] = acc;
                }
            } else {
                // Row by row of B, so the inner loop runs along contiguous memory; each element still sums in p order.
                if (!accumulate) {
                    java.util.Arrays.fill(c, cRow, cRow + n, 0f);
                }
                for (int p = 0; p < k; p++) {
                    float ap = a[aRow + p];
                    int bRow = bOffset + p * ldb;
                    for (int j = 0; j < n; j++) {
                        c[cRow + j] += ap * b[bRow + j];
                    }
                }
            }
        }
    }
}

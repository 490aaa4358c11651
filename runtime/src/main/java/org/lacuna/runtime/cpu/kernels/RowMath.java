package org.lacuna.runtime.cpu.kernels;

/**
 * Row arithmetic of the transformer block's layer norm and residual add, in fp32: {@link ScalarRowMath} anywhere,
 * {@code VectorRowMath} where the Vector API is enabled. Sums run in an order fixed by the length alone.
 */
public interface RowMath {
    /** {@code Σ a[0 .. n)}. */
    float sum(float[] a, int n);

    /** {@code Σ (a[i] − mean)²} over {@code [0, n)}. */
    float squaredDeviations(float[] a, int n, float mean);

    /** {@code y[i] = (x[i] − mean) · rstd · gamma[i] + beta[i]} (beta may be null). */
    void normalise(float[] x, int n, float mean, float rstd, float[] gamma, float[] beta, float[] y);

    static RowMath of(boolean vectorApi) {
        return vectorApi ? VectorRowMathHolder.INSTANCE : ScalarRowMath.INSTANCE;
    }
}

package org.lacuna.runtime.cpu.kernels;

/** {@link RowMath} in plain Java, summing in index order. */
final class ScalarRowMath implements RowMath {
    static final ScalarRowMath INSTANCE = new ScalarRowMath();

    private ScalarRowMath() {
    }

    @Override
    public float sum(float[] a, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += a[i];
        }
        return sum;
    }

    @Override
    public float squaredDeviations(float[] a, int n, float mean) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float d = a[i] - mean;
            sum = Math.fma(d, d, sum);
        }
        return sum;
    }

    @Override
    public void normalise(float[] x, int n, float mean, float rstd, float[] gamma, float[] beta, float[] y) {
        for (int i = 0; i < n; i++) {
            float scaled = (x[i] - mean) * rstd;
            y[i] = beta == null ? scaled * gamma[i] : Math.fma(scaled, gamma[i], beta[i]);
        }
    }
}

package org.lacuna.runtime.cpu.kernels;

/** {@link AttentionTileMath} in plain Java: the fallback where the Vector API is not enabled. */
final class ScalarAttentionTileMath implements AttentionTileMath {
    static final ScalarAttentionTileMath INSTANCE = new ScalarAttentionTileMath();

    private ScalarAttentionTileMath() {
    }

    @Override
    public void scores(float[] q, int qOffset, float[] kt, int rows, int dim, float[] s) {
        for (int i = 0; i < rows; i++) {
            int row = i * KEYS;
            java.util.Arrays.fill(s, row, row + KEYS, 0f);
            for (int d = 0; d < dim; d++) {
                float qd = q[qOffset + i * dim + d];
                int k = d * KEYS;
                for (int j = 0; j < KEYS; j++) {
                    s[row + j] = Math.fma(qd, kt[k + j], s[row + j]);
                }
            }
        }
    }

    @Override
    public void accumulate(float[] p, float[] v, int rows, int dim, float[] o, int oOffset) {
        for (int i = 0; i < rows; i++) {
            int out = oOffset + i * dim;
            for (int j = 0; j < KEYS; j++) {
                float pj = p[i * KEYS + j];
                if (pj == 0f) {
                    continue; // masked and padded keys: adding 0 · v changes nothing
                }
                int in = j * dim;
                for (int d = 0; d < dim; d++) {
                    o[out + d] = Math.fma(pj, v[in + d], o[out + d]);
                }
            }
        }
    }

    @Override
    public float max(float[] s, int offset, int count) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < count; j++) {
            max = Math.max(max, s[offset + j]);
        }
        return max;
    }

    @Override
    public float expAndSum(float[] s, int offset, int count, float shift) {
        float sum = 0f;
        for (int j = 0; j < count; j++) {
            float p = FastExp.exp(s[offset + j] - shift);
            s[offset + j] = p;
            sum += p;
        }
        return sum;
    }

    @Override
    public void scale(float[] a, int offset, int count, float factor) {
        for (int j = 0; j < count; j++) {
            a[offset + j] *= factor;
        }
    }
}

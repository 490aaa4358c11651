package org.lacuna.api.layers;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.ops.Activation;

/**
 * The encoder layer from its definition, in double precision with no intermediate rounding: weights as the layer
 * stores them (rounded to its dtype, pruned to 2:4 if it prunes), everything else exact.
 */
final class EncoderReference {
    private final TransformerEncoderLayer.Config config;
    private final double[] qkvW;
    private final double[] projW;
    private final double[] fc1W;
    private final double[] fc2W;
    private final TransformerEncoderLayer.Weights w;

    EncoderReference(TransformerEncoderLayer.Config config, TransformerEncoderLayer.Weights weights) {
        this.config = config;
        this.w = weights;
        int h = config.hidden();
        int f = config.ffnHidden();
        boolean attention = config.twoFour().prunesAttention();
        boolean ffn = config.twoFour().prunesFeedForward();
        qkvW = stored(weights.qkvWeight(), 3 * h, h, attention);
        projW = stored(weights.projWeight(), h, h, attention);
        fc1W = stored(weights.fc1Weight(), f, h, ffn);
        fc2W = stored(weights.fc2Weight(), h, f, ffn);
    }

    private double[] stored(float[] weight, int out, int in, boolean pruned) {
        float[] used = pruned ? TwoFourPruning.prune(weight, out, in) : weight;
        double[] d = new double[used.length];
        for (int i = 0; i < used.length; i++) {
            d[i] = HalfFloats.roundTo(config.dtype(), used[i]);
        }
        return d;
    }

    /** The layer's output for each row of {@code sequences} (row indices into x, in sequence order). */
    double[][] block(float[] x, int[][] sequences) {
        int h = config.hidden();
        int rows = x.length / h;
        double[][] out = new double[rows][];
        for (int[] members : sequences) {
            int n = members.length;
            double[][] input = new double[n][h];
            double[][] qkv = new double[n][];
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < h; c++) {
                    input[i][c] = x[members[i] * h + c];
                }
                double[] normed = config.postNorm() ? input[i] : layerNorm(input[i], w.norm1Gamma(), w.norm1Beta());
                qkv[i] = linear(normed, qkvW, w.qkvBias(), 3 * h);
            }
            double[][] attended = attention(qkv);
            for (int i = 0; i < n; i++) {
                double[] residual = add(input[i], linear(attended[i], projW, w.projBias(), h));
                if (config.postNorm()) { // BERT: h = LN1(x + attention(x)); y = LN2(h + FFN(h))
                    residual = layerNorm(residual, w.norm1Gamma(), w.norm1Beta());
                }
                double[] f1 = linear(config.postNorm() ? residual : layerNorm(residual, w.norm2Gamma(), w.norm2Beta()),
                        fc1W, w.fc1Bias(), config.ffnHidden());
                for (int c = 0; c < f1.length; c++) {
                    f1[c] = Activation.GELU.apply(f1[c]);
                }
                double[] y = add(residual, linear(f1, fc2W, w.fc2Bias(), h));
                out[members[i]] = config.postNorm() ? layerNorm(y, w.norm2Gamma(), w.norm2Beta()) : y;
            }
        }
        return out;
    }

    /** 1/H Σ_h softmax row 0 of each sequence: what the CLS token paid each token (the CLS_ATTENTION score). */
    double[] clsAttention(float[] x, int[][] sequences) {
        int h = config.hidden();
        double[] scores = new double[x.length / h];
        for (int[] members : sequences) {
            if (members.length == 0) {
                continue;
            }
            double[][] qkv = new double[members.length][];
            for (int i = 0; i < members.length; i++) {
                double[] in = new double[h];
                for (int c = 0; c < h; c++) {
                    in[c] = x[members[i] * h + c];
                }
                qkv[i] = linear(layerNorm(in, w.norm1Gamma(), w.norm1Beta()), qkvW, w.qkvBias(), 3 * h);
            }
            for (int head = 0; head < config.heads(); head++) {
                double[] p = probabilities(qkv, head, 0);
                for (int j = 0; j < members.length; j++) {
                    scores[members[j]] += p[j] / config.heads();
                }
            }
        }
        return scores;
    }

    private double[][] attention(double[][] qkv) {
        int n = qkv.length;
        int h = config.hidden();
        int d = config.headDim();
        double[][] out = new double[n][h];
        for (int head = 0; head < config.heads(); head++) {
            for (int i = 0; i < n; i++) {
                double[] p = probabilities(qkv, head, i);
                for (int j = 0; j < n; j++) {
                    for (int e = 0; e < d; e++) {
                        out[i][head * d + e] += p[j] * qkv[j][2 * h + head * d + e];
                    }
                }
            }
        }
        return out;
    }

    private double[] probabilities(double[][] qkv, int head, int i) {
        int n = qkv.length;
        int h = config.hidden();
        int d = config.headDim();
        double[] s = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            if (config.causal() && j > i) {
                s[j] = Double.NEGATIVE_INFINITY;
                continue;
            }
            double dot = 0;
            for (int e = 0; e < d; e++) {
                dot += qkv[i][head * d + e] * qkv[j][h + head * d + e];
            }
            s[j] = dot / Math.sqrt(d);
            max = Math.max(max, s[j]);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            sum += Math.exp(s[j] - max);
        }
        for (int j = 0; j < n; j++) {
            s[j] = Math.exp(s[j] - max) / sum;
        }
        return s;
    }

    private double[] layerNorm(double[] v, float[] gamma, float[] beta) {
        double mean = 0;
        for (double x : v) {
            mean += x;
        }
        mean /= v.length;
        double variance = 0;
        for (double x : v) {
            variance += (x - mean) * (x - mean);
        }
        double scale = 1 / Math.sqrt(variance / v.length + config.layerNormEpsilon());
        double[] y = new double[v.length];
        for (int c = 0; c < v.length; c++) {
            y[c] = (v[c] - mean) * scale * gamma[c] + (beta == null ? 0 : beta[c]);
        }
        return y;
    }

    private static double[] linear(double[] x, double[] weight, float[] bias, int out) {
        int in = x.length;
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double acc = bias == null ? 0 : bias[o];
            for (int k = 0; k < in; k++) {
                acc += x[k] * weight[o * in + k];
            }
            y[o] = acc;
        }
        return y;
    }

    private static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            y[i] = a[i] + b[i];
        }
        return y;
    }

    /** Absolute error allowed on the layer's outputs: a dozen roundings to the activation type along the way. */
    static double tolerance(DType dtype) {
        return dtype == DType.BF16 ? 8e-2 : 1.5e-2;
    }
}

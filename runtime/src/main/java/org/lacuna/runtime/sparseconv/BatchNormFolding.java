package org.lacuna.runtime.sparseconv;

import org.lacuna.runtime.error.InvalidInputException;

/**
 * Folds an inference-mode batch norm that follows a convolution into the convolution's weight and bias:
 * {@code γ (W·x + b − μ) / √(σ² + ε) + β = W'·x + b'} with {@code W' = W · s}, {@code b' = (b − μ) s + β},
 * {@code s = γ / √(σ² + ε)} per output channel, so the kernels' epilogue needs only bias and activation.
 */
public final class BatchNormFolding {
    /** The folded weight [volume, in, out] and bias [out]. */
    public record Folded(float[] weights, float[] bias) {
    }

    private BatchNormFolding() {
    }

    /** {@code bias} may be null (zero); the others have one entry per output channel. */
    public static Folded fold(float[] weights, float[] bias, int out, float[] gamma, float[] beta, float[] mean,
                              float[] variance, double epsilon) {
        String call = "BatchNormFolding.fold";
        for (float[] p : new float[][] {gamma, beta, mean, variance}) {
            if (p == null || p.length != out) {
                throw InvalidInputException.shape(call, "batch-norm parameters need " + out + " entries each");
            }
        }
        if (bias != null && bias.length != out) {
            throw InvalidInputException.shape(call, "bias has " + bias.length + " entries, not " + out);
        }
        if (out < 1 || weights.length % out != 0) {
            throw InvalidInputException.shape(call, weights.length + " weights are not rows of " + out + " outputs");
        }
        if (!(epsilon >= 0)) {
            throw InvalidInputException.argument(call, "epsilon " + epsilon + " must be non-negative");
        }
        double[] scale = new double[out];
        float[] foldedBias = new float[out];
        for (int c = 0; c < out; c++) {
            double denominator = Math.sqrt((double) variance[c] + epsilon);
            if (!(denominator > 0)) {
                throw InvalidInputException.argument(call, "channel " + c + ": variance " + variance[c]
                        + " + epsilon " + epsilon + " must be positive");
            }
            scale[c] = gamma[c] / denominator;
            double b = bias == null ? 0.0 : bias[c];
            foldedBias[c] = (float) ((b - mean[c]) * scale[c] + beta[c]);
        }
        float[] folded = new float[weights.length];
        for (int i = 0; i < weights.length; i++) {
            folded[i] = (float) (weights[i] * scale[i % out]);
        }
        return new Folded(folded, foldedBias);
    }
}

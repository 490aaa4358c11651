package org.lacuna.api.text;

/**
 * How a sentence embedding is made from its tokens' hidden states, as sentence-transformers' Pooling and Normalize
 * modules do: the mean over the sentence's tokens, its first ([CLS]) token, or the per-channel maximum over its
 * tokens, optionally scaled to unit L2 norm. {@link SentenceTransformersLayout} reads a model's own choice.
 */
public record Pooling(Mode mode, boolean normalize) {
    public enum Mode { MEAN, CLS, MAX }

    public Pooling {
        java.util.Objects.requireNonNull(mode, "mode");
    }

    /** all-MiniLM-L6-v2 and most sentence-transformers models: mean pooling, then L2 normalisation. */
    public static Pooling meanNormalized() {
        return new Pooling(Mode.MEAN, true);
    }

    /** One embedding from the [tokens, hidden] states of one sentence (row-major, {@code offset} its first row). */
    public float[] pool(float[] states, int offset, int length, int hidden) {
        double[] sum = new double[hidden];
        if (mode == Mode.MAX) {
            // sentence-transformers takes the maximum over the sentence's real tokens (padding excluded).
            java.util.Arrays.fill(sum, Double.NEGATIVE_INFINITY);
            for (int t = 0; t < length; t++) {
                int row = (offset + t) * hidden;
                for (int c = 0; c < hidden; c++) {
                    sum[c] = Math.max(sum[c], states[row + c]);
                }
            }
        } else {
            int rows = mode == Mode.MEAN ? length : 1;
            for (int t = 0; t < rows; t++) {
                int row = (offset + t) * hidden;
                for (int c = 0; c < hidden; c++) {
                    sum[c] += states[row + c];
                }
            }
            for (int c = 0; c < hidden; c++) {
                sum[c] /= rows;
            }
        }
        double norm = 0;
        for (int c = 0; c < hidden; c++) {
            norm += sum[c] * sum[c];
        }
        // sentence-transformers' Normalize divides by max(‖v‖, 1e-12).
        double scale = normalize ? 1 / Math.max(Math.sqrt(norm), 1e-12) : 1;
        float[] out = new float[hidden];
        for (int c = 0; c < hidden; c++) {
            out[c] = (float) (sum[c] * scale);
        }
        return out;
    }
}

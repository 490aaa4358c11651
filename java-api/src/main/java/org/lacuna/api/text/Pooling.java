package org.lacuna.api.text;

/**
 * How a sentence embedding is made from its tokens' hidden states, as sentence-transformers' Pooling and Normalize
 * modules do: the mean over the sentence's tokens or its first ([CLS]) token, optionally scaled to unit L2 norm.
 */
public record Pooling(Mode mode, boolean normalize) {
    public enum Mode { MEAN, CLS }

    /** all-MiniLM-L6-v2 and most sentence-transformers models: mean pooling, then L2 normalisation. */
    public static Pooling meanNormalized() {
        return new Pooling(Mode.MEAN, true);
    }

    /** One embedding from the [tokens, hidden] states of one sentence (row-major, {@code offset} its first row). */
    public float[] pool(float[] states, int offset, int length, int hidden) {
        double[] sum = new double[hidden];
        int rows = mode == Mode.MEAN ? length : 1;
        for (int t = 0; t < rows; t++) {
            int row = (offset + t) * hidden;
            for (int c = 0; c < hidden; c++) {
                sum[c] += states[row + c];
            }
        }
        double norm = 0;
        for (int c = 0; c < hidden; c++) {
            sum[c] /= rows;
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

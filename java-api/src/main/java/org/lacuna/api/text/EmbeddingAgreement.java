package org.lacuna.api.text;

import org.lacuna.runtime.error.InvalidInputException;

/**
 * How closely one set of embeddings follows a reference set, text by text: the cosine similarity of each pair, its
 * mean, and the worst pair. Measures what a sparse encoder (2:4 pruning, token dropping) costs against the dense one.
 *
 * @param cosines  per text, in input order
 * @param minIndex the text with the lowest cosine
 */
public record EmbeddingAgreement(double[] cosines, double mean, double min, int minIndex) {
    /** Cosine of each {@code candidate[i]} to {@code reference[i]}; both non-empty and of one dimension. */
    public static EmbeddingAgreement of(float[][] reference, float[][] candidate) {
        String call = "EmbeddingAgreement.of";
        if (reference == null || candidate == null || reference.length == 0 || reference.length != candidate.length) {
            throw InvalidInputException.shape(call, "needs two equally long, non-empty sets of embeddings, got "
                    + (reference == null ? "none" : reference.length) + " and "
                    + (candidate == null ? "none" : candidate.length));
        }
        double[] cosines = new double[reference.length];
        double sum = 0;
        int worst = 0;
        for (int i = 0; i < reference.length; i++) {
            cosines[i] = cosine(reference[i], candidate[i]);
            sum += cosines[i];
            if (cosines[i] < cosines[worst]) {
                worst = i;
            }
        }
        return new EmbeddingAgreement(cosines, sum / cosines.length, cosines[worst], worst);
    }

    /** The cosine similarity of two vectors of one length, in double precision; 0 when either is all zeros. */
    public static double cosine(float[] a, float[] b) {
        if (a.length != b.length) {
            throw InvalidInputException.shape("EmbeddingAgreement.cosine", "vectors of " + a.length + " and "
                    + b.length + " values");
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    public int count() {
        return cosines.length;
    }
}

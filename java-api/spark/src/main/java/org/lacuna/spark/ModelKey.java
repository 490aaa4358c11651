package org.lacuna.spark;

import java.io.Serializable;

/**
 * Identifies one loaded model in an executor: what kind it is, where it comes from, the options it was built with
 * (everything that changes its weights or its outputs) and the backend it runs on. Two transformers with equal keys
 * share one loaded model.
 *
 * @param kind    {@code sentence-embedding}, {@code point-cloud-segmentation}
 * @param source  the model's file or URI, or {@code bundled}
 * @param options the build options in a fixed textual form
 * @param backend {@code auto}, {@code cpu} or {@code cuda}
 */
public record ModelKey(String kind, String source, String options, String backend) implements Serializable {
    private static final long serialVersionUID = 1L;

    String describe() {
        return kind + " model " + source + " [" + options + "] (backend " + backend + ")";
    }
}

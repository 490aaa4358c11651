package org.lacuna.runtime.ops;

/** Per-row reductions of a matrix to one fp32 value a row. */
public enum RowReduction {
    SUM, MAX,
    /** The Euclidean norm of the row (token scoring by L2 norm). */
    L2;

    public String kernelName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

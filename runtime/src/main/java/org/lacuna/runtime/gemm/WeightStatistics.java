package org.lacuna.runtime.gemm;

/**
 * What the kernel choice of a linear layer looks at.
 *
 * @param density     fraction of non-zero weights
 * @param conformance fraction of groups of 4 (along in) with at most 2 non-zeros; 1.0 means 2:4-conformant
 */
public record WeightStatistics(int out, int in, double density, double conformance) {
    public boolean twoFourConformant() {
        return conformance == 1.0;
    }

    public static WeightStatistics of(float[] w, int out, int in) {
        return new WeightStatistics(out, in, TwoFourConformance.density(w), TwoFourConformance.conformance(w, out, in));
    }
}

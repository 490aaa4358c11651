package org.lacuna.runtime.ops;

import org.lacuna.runtime.math.SpecialFunctions;

/** Activations of fused epilogues. GELU is the exact erf form, as PyTorch's default. */
public enum Activation {
    NONE, RELU, GELU;

    /** The name of the kernels' {@code ACT} specialisation constant. */
    public String kernelName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The reference value, in double precision. */
    public double apply(double x) {
        return switch (this) {
            case NONE -> x;
            case RELU -> Math.max(x, 0.0);
            case GELU -> 0.5 * x * (1.0 + SpecialFunctions.erf(x / Math.sqrt(2.0)));
        };
    }
}

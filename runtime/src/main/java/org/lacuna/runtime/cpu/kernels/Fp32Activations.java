package org.lacuna.runtime.cpu.kernels;

import org.lacuna.runtime.ops.Activation;

/**
 * The activations of fused epilogues at fp32 accuracy and serving speed. {@link Activation#apply} is the double
 * reference; its exact erf sums a series per call, far too slow for an epilogue that runs once per output.
 */
public final class Fp32Activations {
    private static final double ONE_OVER_SQRT_TWO = 0.7071067811865476;

    private Fp32Activations() {
    }

    public static float apply(Activation activation, float x) {
        return switch (activation) {
            case NONE -> x;
            case RELU -> Math.max(x, 0f);
            case GELU -> gelu(x);
        };
    }

    /** GELU in its exact form {@code x · Φ(x) = ½ x · erfc(−x/√2)}, written so no cancellation occurs for x < 0. */
    static float gelu(float x) {
        return (float) (0.5 * x * erfc(-x * ONE_OVER_SQRT_TWO));
    }

    /**
     * The complementary error function with relative error below 1.2e-7 everywhere: the Chebyshev fit of Press et
     * al., Numerical Recipes, §6.2 ({@code erfcc}).
     */
    static double erfc(double z) {
        double a = Math.abs(z);
        double t = 1.0 / (1.0 + 0.5 * a);
        double r = t * Math.exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return z >= 0 ? r : 2.0 - r;
    }
}

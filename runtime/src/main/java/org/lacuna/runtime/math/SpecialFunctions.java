package org.lacuna.runtime.math;

/** Special functions the JDK lacks, accurate to double precision: the GELU definition and the CPU reference use them. */
public final class SpecialFunctions {
    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    private static final double ONE_OVER_SQRT_PI = 0.5641895835477563;

    private SpecialFunctions() {
    }

    /** The error function: Maclaurin series near zero, a continued fraction for erfc in the tails. */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double a = Math.abs(x);
        double result;
        if (a <= 1.5) {
            double x2 = a * a;
            double term = a;
            double sum = a;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double contribution = term / (2 * n + 1);
                sum += contribution;
                if (Math.abs(contribution) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            result = TWO_OVER_SQRT_PI * sum;
        } else if (a < 27) {
            // erfc(a) = exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...))))), evaluated bottom-up.
            double f = a;
            for (int k = 120; k >= 1; k--) {
                f = a + (k / 2.0) / f;
            }
            result = 1.0 - Math.exp(-a * a) * ONE_OVER_SQRT_PI / f;
        } else {
            result = 1.0;
        }
        return x < 0 ? -result : result;
    }
}

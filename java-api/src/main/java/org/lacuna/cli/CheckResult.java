package org.lacuna.cli;

import java.util.Locale;
import org.lacuna.runtime.data.DType;

/**
 * One selftest comparison of the serving backend with the double-precision reference: the largest absolute
 * difference over the output divided by the reference output's largest magnitude (so one bound fits outputs of any
 * scale), against a bound set by the storage type's rounding and the depth of the computation.
 *
 * @param error      the normalised max error; NaN when the op could not run here ({@code note} says why)
 * @param millis     the serving backend's time for one run (after a warm-up)
 */
record CheckResult(String family, String name, double error, double tolerance, double millis, String note) {
    /** A mismatch of finiteness (NaN or infinity in one result only) counts as an infinite error. */
    static double normalisedMaxError(float[] got, float[] want) {
        if (got.length != want.length) {
            return Double.POSITIVE_INFINITY;
        }
        double scale = 1e-30;
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            if (Float.isFinite(got[i]) != Float.isFinite(want[i])) {
                return Double.POSITIVE_INFINITY;
            }
            if (Float.isFinite(want[i])) {
                scale = Math.max(scale, Math.abs(want[i]));
                worst = Math.max(worst, Math.abs((double) got[i] - want[i]));
            }
        }
        return worst / scale;
    }

    /**
     * A bound for outputs stored in {@code dtype} after {@code roundings} chained roundings or accumulations of that
     * precision: the unit roundoff (F32 2^-24, BF16 2^-8, F16 2^-11) times the depth times a margin of 4 (one ulp
     * of the output, relative to the largest output, is up to twice the unit roundoff).
     */
    static double tolerance(DType dtype, int roundings) {
        double unit = switch (dtype) {
            case F16 -> 0x1p-11;
            case BF16 -> 0x1p-8;
            default -> 0x1p-24;
        };
        // F32 kernels accumulate in a different order than the reference's double sums: allow for long sums.
        double floor = dtype == DType.F32 ? 1e-5 : 0;
        return Math.max(floor, 4 * unit * roundings);
    }

    static CheckResult unavailable(String family, String name, String why) {
        return new CheckResult(family, name, Double.NaN, 0, 0, why);
    }

    boolean ran() {
        return !Double.isNaN(error);
    }

    boolean ok() {
        return !ran() || error <= tolerance;
    }

    String describe() {
        if (!ran()) {
            return String.format(Locale.ROOT, "  %-44s unavailable here: %s", name, note);
        }
        return String.format(Locale.ROOT, "  %-44s %9.3f ms  err %.2e (bound %.1e)  %s%s", name, millis, error,
                tolerance, ok() ? "ok" : "FAILED", note.isEmpty() ? "" : "  " + note);
    }
}

package org.lacuna.runtime.schedule;

/**
 * A number in fixed-point decimal text, as {@code String.format(Locale.ROOT, "%.Nf", value)} writes it, without a
 * {@link java.util.Formatter}. It rounds the binary value half up, where the formatter rounds the shortest decimal
 * form: they differ only at exact decimal ties such as 0.015 (two decimals), which bucketed statistics never are. A
 * signature is built every time a layer plans a bucket, and a formatter run mostly interpreted (a layer plans once
 * per bucket, so its code stays cold) costs tens of microseconds per call, a model's first forward milliseconds.
 */
final class FixedPoint {
    private static final long[] SCALE = {1, 10, 100, 1_000, 10_000, 100_000, 1_000_000};

    private FixedPoint() {
    }

    /** {@code value} with {@code decimals} (0 to 6) digits after the point, appended to {@code out}. */
    static StringBuilder append(StringBuilder out, double value, int decimals) {
        if (!Double.isFinite(value) || Math.abs(value) * SCALE[decimals] >= 1e15) {
            return out.append(String.format(java.util.Locale.ROOT, "%." + decimals + "f", value));
        }
        long scaled = Math.round(Math.abs(value) * SCALE[decimals]);
        if (value < 0) {
            out.append('-');
        }
        out.append(scaled / SCALE[decimals]);
        if (decimals > 0) {
            out.append('.');
            String fraction = Long.toString(scaled % SCALE[decimals]);
            for (int i = fraction.length(); i < decimals; i++) {
                out.append('0');
            }
            out.append(fraction);
        }
        return out;
    }

    /** {@code value} with {@code decimals} digits after the point. */
    static String text(double value, int decimals) {
        return append(new StringBuilder(24), value, decimals).toString();
    }
}

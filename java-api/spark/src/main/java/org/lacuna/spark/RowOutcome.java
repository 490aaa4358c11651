package org.lacuna.spark;

/**
 * The result for one row: its output value (a {@code float[]}, an {@code int[]}), or null with an error that names
 * the problem.
 */
record RowOutcome(Object value, String error) {
    static final RowOutcome NULL_INPUT = new RowOutcome(null, null);

    static RowOutcome of(Object value) {
        return new RowOutcome(value, null);
    }

    static RowOutcome failed(String error) {
        return new RowOutcome(null, error);
    }

    boolean failed() {
        return error != null;
    }
}

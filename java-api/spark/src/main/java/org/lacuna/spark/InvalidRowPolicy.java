package org.lacuna.spark;

import java.util.Locale;

/** What a transformer does with a row it cannot process: Spark ML's {@code handleInvalid} values. */
enum InvalidRowPolicy {
    /** Null output and the problem in the error column (the default). */
    KEEP,
    /** Fail the task, naming the row and the problem. */
    ERROR,
    /** Leave the row out of the output. */
    SKIP;

    static final String[] NAMES = {"keep", "error", "skip"};

    static InvalidRowPolicy of(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}

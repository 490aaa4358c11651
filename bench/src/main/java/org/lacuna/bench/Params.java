package org.lacuna.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/** The parameter objects of benchmark cases and records: named values, written in the order given. */
public final class Params {
    private Params() {
    }

    /**
     * A mutable, insertion-ordered map of {@code name, value, name, value, ...}.
     *
     * @throws IllegalArgumentException on an odd count or a name that is not a string
     */
    public static Map<String, Object> of(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values come in pairs, got " + namesAndValues.length
                    + " items");
        }
        Map<String, Object> params = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            if (!(namesAndValues[i] instanceof String name)) {
                throw new IllegalArgumentException("item " + i + " should be a name, got " + namesAndValues[i]);
            }
            params.put(name, namesAndValues[i + 1]);
        }
        return params;
    }
}

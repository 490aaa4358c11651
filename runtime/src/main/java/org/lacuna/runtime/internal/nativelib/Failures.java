package org.lacuna.runtime.internal.nativelib;

/** Turns a load failure into one line that keeps the loader's own words. */
public final class Failures {
    private static final int MAX_CAUSES = 5;

    private Failures() {
    }

    /** The messages of {@code failure} and its causes, without repeats ({@code ExceptionInInitializerError} has none). */
    public static String describe(Throwable failure) {
        StringBuilder text = new StringBuilder();
        Throwable current = failure;
        for (int depth = 0; current != null && depth < MAX_CAUSES; depth++, current = current.getCause()) {
            String message = current.getMessage();
            String part = message == null || message.isBlank() ? current.getClass().getName() : message.strip();
            if (text.indexOf(part) >= 0) {
                continue;
            }
            if (!text.isEmpty()) {
                text.append("; caused by ");
            }
            text.append(part);
        }
        return text.toString();
    }
}

package org.lacuna.runtime.internal.nativelib;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One place a library search looked at and what came of it.
 *
 * @param path the file or folder looked at; null when the step had nothing to look at (e.g. CUDA_HOME unset)
 * @param detail why it was skipped or rejected (the loader's own message for a failed load), or what serves
 */
public record SearchAttempt(SearchStep step, Path path, Outcome outcome, String detail) {
    public enum Outcome {
        /** The step had no input: its variable or setting is unset, or it found no folder to look in. */
        NOT_CONFIGURED,
        /** The folder or file does not exist, or holds none of the wanted sonames. */
        MISSING,
        /** The file exists but could not be loaded or bound; {@code detail} carries the error. */
        REJECTED,
        /** The file was loaded and bound: it serves. */
        SELECTED
    }

    public SearchAttempt {
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(outcome, "outcome");
        detail = detail == null ? "" : detail;
    }

    public static SearchAttempt notConfigured(SearchStep step, String detail) {
        return new SearchAttempt(step, null, Outcome.NOT_CONFIGURED, detail);
    }

    public static SearchAttempt missing(SearchStep step, Path path, String detail) {
        return new SearchAttempt(step, path, Outcome.MISSING, detail);
    }

    public static SearchAttempt rejected(SearchStep step, Path path, String detail) {
        return new SearchAttempt(step, path, Outcome.REJECTED, detail);
    }

    public static SearchAttempt selected(SearchStep step, Path path, String detail) {
        return new SearchAttempt(step, path, Outcome.SELECTED, detail);
    }

    /** One line, e.g. {@code LD_LIBRARY_PATH: /opt/x/libnvrtc.so.12: rejected: ... file too short}. */
    public String describe() {
        StringBuilder line = new StringBuilder(step.label()).append(": ");
        if (path != null) {
            line.append(path).append(": ");
        }
        line.append(switch (outcome) {
            case NOT_CONFIGURED -> "skipped";
            case MISSING -> "missing";
            case REJECTED -> "rejected";
            case SELECTED -> "selected";
        });
        if (!detail.isEmpty()) {
            line.append(" (").append(detail).append(')');
        }
        return line.toString();
    }
}

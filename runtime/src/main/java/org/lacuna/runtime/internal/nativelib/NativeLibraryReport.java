package org.lacuna.runtime.internal.nativelib;

import java.util.List;
import java.util.Optional;

/**
 * Which binding serves one native library and why the other places did not, for {@code lacuna info}.
 *
 * @param library  short name: nvrtc, cublas, cusparse
 * @param servedBy the serving binding's description, or null when none could be bound
 * @param attempts every place looked at, in order
 */
public record NativeLibraryReport(String library, String servedBy, List<SearchAttempt> attempts) {
    public NativeLibraryReport {
        attempts = List.copyOf(attempts);
    }

    public boolean available() {
        return servedBy != null;
    }

    public Optional<String> servingBinding() {
        return Optional.ofNullable(servedBy);
    }

    /** E.g. {@code cublas: not available} followed by one indented line per attempt. */
    public String render() {
        StringBuilder text = new StringBuilder(library).append(": ")
                .append(servedBy == null ? "not available" : servedBy);
        for (SearchAttempt attempt : attempts) {
            text.append("\n    ").append(attempt.describe());
        }
        return text.toString();
    }
}

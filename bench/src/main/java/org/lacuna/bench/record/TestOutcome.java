package org.lacuna.bench.record;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One test case as a JUnit XML report tells it.
 *
 * @param outcome {@code passed}, {@code failed} (an assertion), {@code error} (an exception) or {@code skipped}
 *                (disabled, or aborted by an assumption: how a GPU test says there is no GPU)
 * @param message the failure's or skip's message, first line only; null when passed
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TestOutcome(String className, String name, String outcome, double seconds, String message) {
    public boolean failed() {
        return outcome.equals("failed") || outcome.equals("error");
    }

    public boolean skipped() {
        return outcome.equals("skipped");
    }
}

package org.lacuna.runtime.testing;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Says on the console, once per test run, why tests were skipped: Maven's summary counts them ("Skipped: 42") but
 * does not say that they are the GPU tests on a machine without one, or the real-data tests where
 * {@code ../shared/data} is absent. Registered for every test JVM through {@code META-INF/services} (the runtime's
 * test jar carries it to the other modules). Disabled classes ({@link GpuTest} where CUDA cannot open) count all
 * their tests; aborted tests (a failed assumption) count one each.
 */
public final class SkipReasonsSummary implements TestExecutionListener {
    private final PrintStream out;
    private final Map<String, Long> testsByReason = new LinkedHashMap<>();
    private TestPlan plan;

    public SkipReasonsSummary() {
        this(System.out);
    }

    SkipReasonsSummary(PrintStream out) {
        this.out = out;
    }

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        plan = testPlan;
    }

    @Override
    public synchronized void executionSkipped(TestIdentifier identifier, String reason) {
        long tests = identifier.isTest() ? 1
                : plan.getDescendants(identifier).stream().filter(TestIdentifier::isTest).count();
        testsByReason.merge(reason == null ? "no reason given" : reason, Math.max(1, tests), Long::sum);
    }

    @Override
    public synchronized void executionFinished(TestIdentifier identifier, TestExecutionResult result) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            String reason = result.getThrowable().map(Throwable::getMessage).orElse("aborted");
            testsByReason.merge(reason.replaceFirst("^Assumption failed: ", ""), 1L, Long::sum);
        }
    }

    @Override
    public void testPlanExecutionFinished(TestPlan testPlan) {
        summary().forEach(out::println);
        out.flush();
    }

    /** One line per distinct reason, most tests first: {@code [lacuna] 42 tests skipped: no GPU: ...}. */
    synchronized List<String> summary() {
        List<String> lines = new ArrayList<>();
        testsByReason.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> lines.add("[lacuna] " + e.getValue() + (e.getValue() == 1 ? " test" : " tests")
                        + " skipped: " + e.getKey()));
        return lines;
    }
}

package org.lacuna.runtime.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherConfig;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

class SkipReasonsSummaryTest {
    /** Run only through the launcher below (Surefire skips nested classes). */
    @Disabled("no GPU: the CUDA driver library is not installed")
    static class DisabledClass {
        @Test
        void one() {
        }

        @Test
        void two() {
        }

        @Test
        void three() {
        }
    }

    static class Assuming {
        @Test
        void needsData() {
            Assumptions.assumeTrue(false, "the real KITTI sweep is not at ../shared/data");
        }

        @Test
        void runs() {
        }
    }

    @Test
    void eachReasonIsPrintedOnceWithTheNumberOfTestsItSkipped() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SkipReasonsSummary listener = new SkipReasonsSummary(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        // Without the auto-registered listeners: the suite's own summary must not count these tests.
        Launcher launcher = LauncherFactory.create(LauncherConfig.builder()
                .enableTestExecutionListenerAutoRegistration(false).build());
        launcher.execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(DisabledClass.class), selectClass(Assuming.class)).build(), listener);
        List<String> expected = List.of(
                "[lacuna] 3 tests skipped: no GPU: the CUDA driver library is not installed",
                "[lacuna] 1 test skipped: the real KITTI sweep is not at ../shared/data");
        assertEquals(expected, listener.summary());
        assertEquals(expected, bytes.toString(StandardCharsets.UTF_8).lines().toList());
    }
}

package org.lacuna.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.junit.jupiter.api.Test;

class JmhMainTest {
    @Test
    void addsLacunasFlagsToEveryFork() throws Exception {
        CommandLineOptions given = new CommandLineOptions("HalfFloat", "-f", "2");
        var options = JmhMain.withForkFlags(given);
        assertEquals(List.of(JmhMain.NATIVE_ACCESS, JmhMain.UNSAFE_ACCESS),
                List.copyOf(options.getJvmArgsAppend().get()));
        assertEquals(2, options.getForkCount().get());
        assertEquals(List.of("HalfFloat"), options.getIncludes());
    }

    @Test
    void keepsTheCallersOwnFlagsAndDoesNotRepeatOurs() throws Exception {
        CommandLineOptions given = new CommandLineOptions("-jvmArgsAppend", "-Xmx2g " + JmhMain.NATIVE_ACCESS);
        var options = JmhMain.withForkFlags(given);
        assertEquals(List.of("-Xmx2g", JmhMain.NATIVE_ACCESS, JmhMain.UNSAFE_ACCESS),
                List.copyOf(options.getJvmArgsAppend().get()));
    }
}

package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A user who adds Lacuna as a plain Maven dependency starts java without {@code --add-modules jdk.incubator.vector}
 * and without {@code --enable-native-access}: the CPU backend must still serve, on its plain Java kernels, and say
 * once which flags unlock the fast path. Runs {@link PlainJvmProbe} in such a JVM.
 */
class CpuWithoutJvmFlagsTest {
    @Test
    void aJvmWithoutFlagsGetsAWorkingBackendAndIsToldWhichFlagsUnlockTheFastPath() throws IOException, InterruptedException {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(List.of(java.toString(), "-cp", classPath,
                PlainJvmProbe.class.getName())).redirectErrorStream(true);
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().remove("JDK_JAVA_OPTIONS");
        Process process = builder.start();
        process.getOutputStream().close();
        byte[] bytes = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the probe JVM did not finish");
        String output = new String(bytes, StandardCharsets.UTF_8);

        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("vector module: false"), output);
        assertTrue(output.contains("linear + bias GELU: matches the reference"), output);
        assertTrue(output.contains("causal attention: matches the reference"), output);
        assertTrue(output.contains("Vector API kernels off: jdk.incubator.vector is not in the boot layer"),
                "the probe line says why the fast path is off:\n" + output);
        assertTrue(output.contains(CpuCapabilities.FAST_PATH_FLAGS), "the log names the flags that unlock it:\n" + output);
    }
}

package org.lacuna.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The settings the CPU benchmarks share (JMH reads these annotations off the superclass): one benchmark-wide state,
 * average time in milliseconds, 3 warm-up and 5 measured iterations of a second, one fork with native access (the
 * OpenBLAS and memory bindings). A benchmark that differs says so with its own annotation, which JMH takes over the
 * inherited one; the benchmarks of the Vector API kernels extend {@link WithVectorApi}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public abstract class CpuBenchmarkSettings {
    /** The same settings, forking with the Vector API's incubator module added, which the CPU kernels use. */
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
    public abstract static class WithVectorApi extends CpuBenchmarkSettings {
    }
}

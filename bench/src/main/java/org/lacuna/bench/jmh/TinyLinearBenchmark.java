package org.lacuna.bench.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.layers.Linear;
import org.lacuna.runtime.DType;
import org.lacuna.runtime.DeviceArray;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The host cost of one tiny op end to end through the java-api: a Linear 1x64x64 forward on the CPU backend,
 * output tensor allocated and closed each call, as an inference loop does. The work itself is 4096 multiply-adds
 * (about a microsecond), so what this measures is the per-call overhead: allocation, checks, dispatch, release.
 * The issue measured 60 µs here (PyTorch: 2.7 µs), 55 µs of it closing a shared arena per tensor.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class TinyLinearBenchmark {
    private static final int FEATURES = 64;

    private Session session;
    private Linear linear;
    private Tensor x;
    private Tensor y;
    private DeviceArray denseWeight;
    private DeviceArray zeroBias;

    @Setup
    public void setUp() {
        session = Lacuna.open(CpuBackendProvider.NAME, 0);
        SplittableRandom random = new SplittableRandom(5);
        float[] weight = new float[FEATURES * FEATURES];
        float[] bias = new float[FEATURES];
        float[] input = new float[FEATURES];
        for (int i = 0; i < weight.length; i++) {
            weight[i] = (float) random.nextDouble(-1, 1);
        }
        for (int i = 0; i < FEATURES; i++) {
            bias[i] = (float) random.nextDouble(-1, 1);
            input[i] = (float) random.nextDouble(-1, 1);
        }
        linear = Linear.create(session, weight, FEATURES, FEATURES, bias, Linear.Options.of(DType.F32));
        x = session.fromFloats(input, DType.F32, 1, FEATURES);
        y = session.empty(DType.F32, 1, FEATURES);
        denseWeight = DeviceWeights.uploadDense(session.backend(), weight(random), FEATURES, FEATURES, DType.F32);
        zeroBias = session.fromFloats(new float[FEATURES], DType.F32, FEATURES).array("setUp");
    }

    private static float[] weight(SplittableRandom random) {
        float[] w = new float[FEATURES * FEATURES];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextDouble(-1, 1);
        }
        return w;
    }

    @TearDown
    public void tearDown() {
        denseWeight.buffer().close();
        session.close();
    }

    /** Forward and release of the output: the whole host cost of one tiny layer call. */
    @Benchmark
    public long forward() {
        try (Tensor y = linear.forward(x)) {
            return y.shape().elementCount();
        }
    }

    /** The part of {@link #forward} that is allocation and release of the output tensor. */
    @Benchmark
    public long allocateAndClose() {
        try (Tensor t = session.empty(DType.F32, 1, FEATURES)) {
            return t.shape().elementCount();
        }
    }

    /** The part of {@link #forward} that is the op itself, on arrays allocated once. */
    @Benchmark
    public DeviceArray opOnly() {
        DeviceArray out = y.array("opOnly");
        session.backend().ops().linearDense(x.array("opOnly"), denseWeight, zeroBias, Activation.NONE, out);
        return out;
    }
}

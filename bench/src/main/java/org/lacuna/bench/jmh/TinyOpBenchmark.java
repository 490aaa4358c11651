package org.lacuna.bench.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.layers.Linear;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.ops.Activation;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The host cost of tiny ops end to end through the java-api on the CPU backend, output tensor allocated and closed
 * each call, as an inference loop does: a Linear 1x64x64 forward (4096 multiply-adds) and a bias + GELU over 64
 * values, with the forward split into its allocation and its op. The work is a microsecond or less, so this
 * measures the per-call overhead: allocation, checks, dispatch, release. The issue measured 60 µs for the forward
 * (PyTorch: 2.7 µs), 55 µs of it closing a shared arena per tensor.
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TinyOpBenchmark extends CpuBenchmarkSettings.WithVectorApi {
    private static final int FEATURES = 64;

    private Session session;
    private Linear linear;
    private Tensor x;
    private Tensor y;
    private DeviceArray denseWeight;
    private DeviceArray zeroBias;
    private Tensor biasTensor;

    @Setup
    public void setUp() {
        session = Lacuna.open(CpuBackendProvider.NAME, 0);
        SplittableRandom random = new SplittableRandom(5);
        float[] weight = weight(random);
        float[] bias = new float[FEATURES];
        float[] input = new float[FEATURES];
        for (int i = 0; i < FEATURES; i++) {
            bias[i] = (float) random.nextDouble(-1, 1);
            input[i] = (float) random.nextDouble(-1, 1);
        }
        linear = Linear.create(session, weight, FEATURES, FEATURES, bias, Linear.Options.of(DType.F32));
        x = session.fromFloats(input, DType.F32, 1, FEATURES);
        y = session.empty(DType.F32, 1, FEATURES);
        denseWeight = DeviceWeights.uploadDense(session.backend(), weight, FEATURES, FEATURES, DType.F32);
        zeroBias = session.fromFloats(new float[FEATURES], DType.F32, FEATURES).array("setUp");
        biasTensor = session.fromFloats(bias, DType.F32, FEATURES);
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
    public long linearForward() {
        try (Tensor y = linear.forward(x)) {
            return y.shape().elementCount();
        }
    }

    /** Bias + GELU over one row of 64 into a new tensor, released: the elementwise family's tiny op. */
    @Benchmark
    public long biasGelu() {
        try (Tensor t = session.biasActivation(x, biasTensor, Activation.GELU, DType.F32)) {
            return t.shape().elementCount();
        }
    }

    /** The part of {@link #linearForward} that is allocation and release of the output tensor. */
    @Benchmark
    public long allocateAndClose() {
        try (Tensor t = session.empty(DType.F32, 1, FEATURES)) {
            return t.shape().elementCount();
        }
    }

    /** The part of {@link #linearForward} that is the op itself, on arrays allocated once. */
    @Benchmark
    public DeviceArray linearOpOnly() {
        DeviceArray out = y.array("linearOpOnly");
        session.backend().ops().gemm().linearDense(x.array("linearOpOnly"), denseWeight, zeroBias, Activation.NONE, out);
        return out;
    }
}

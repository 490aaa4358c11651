package org.lacuna.bench.jmh;

import java.util.SplittableRandom;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.gemm.TwoFourWeights;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The Java-side work of the 2:4 family: pruning and compression run once per weight at load time (they bound how
 * fast a model loads), and the CPU path of a 2:4 linear layer (the fallback and the tests' reference).
 */
public class TwoFourWeightsBenchmark extends CpuBenchmarkSettings {
    /** BERT-base's FFN up-projection and a LLaMA-7B FFN shape (out x in). */
    @Param({"3072x768", "11008x4096"})
    String shape;

    int out;
    int in;
    float[] dense;
    float[] pruned;

    Backend backend;
    DeviceArray x;
    DeviceArray y;
    TwoFourWeight deviceWeight;

    @Setup(Level.Trial)
    public void setUp() {
        String[] parts = shape.split("x");
        out = Integer.parseInt(parts[0]);
        in = Integer.parseInt(parts[1]);
        SplittableRandom random = new SplittableRandom(17);
        dense = new float[out * in];
        for (int i = 0; i < dense.length; i++) {
            dense[i] = (float) random.nextDouble(-1, 1);
        }
        pruned = TwoFourPruning.prune(dense, out, in);
        backend = new CpuBackendProvider().open(0);
        int tokens = 8;
        float[] input = new float[tokens * in];
        for (int i = 0; i < input.length; i++) {
            input[i] = (float) random.nextDouble(-1, 1);
        }
        x = HostData.upload(backend, DType.F16, Shape.of(tokens, in), input);
        y = HostData.upload(backend, DType.F32, Shape.of(tokens, out), new float[tokens * out]);
        deviceWeight = DeviceWeights.upload(backend, TwoFourWeights.compress(pruned, out, in, DType.F16));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public float[] prune() {
        return TwoFourPruning.prune(dense, out, in);
    }

    @Benchmark
    public TwoFourWeights compress() {
        return TwoFourWeights.compress(pruned, out, in, DType.F16);
    }

    @Benchmark
    public DeviceArray cpuLinearEightTokens() {
        backend.ops().gemm().linearTwoFour(x, deviceWeight, null, Activation.NONE, y);
        return y;
    }
}

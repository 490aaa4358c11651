package org.lacuna.bench.jmh;

import java.util.SplittableRandom;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.cpu.CpuOptions;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.gemm.CsrMatrix;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.gemm.TwoFourWeights;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Whether sparsity pays on the CPU backend: a linear layer on the transformer FFN shapes with a 2:4 weight, with CSR
 * weights at 5% and 10% density, and dense, at 128, 512 and 2048 tokens (x in F16, y in F32, no bias, no
 * activation, {@code threads} worker threads). {@code denseBackend} is the serving backend's own linearDense (OpenBLAS where it
 * loads), the path a sparse weight has to beat.
 */
public class CpuSparseLinearBenchmark extends CpuBenchmarkSettings.WithVectorApi {
    /** in x out: MiniLM's FFN up and down, BERT-base's FFN up and down. */
    @Param({"384x1536", "1536x384", "768x3072", "3072x768"})
    String shape;

    @Param({"128", "512", "2048"})
    int tokens;

    /** The backend's worker threads. */
    @Param({"2"})
    int threads;

    int in;
    int out;
    Backend backend;
    DeviceArray x;
    DeviceArray y;
    DeviceArray denseWeight;
    TwoFourWeight twoFour;
    CsrWeight csr5;
    CsrWeight csr10;
    float[] xs;
    float[] ys;

    @Setup(Level.Trial)
    public void setUp() {
        String[] parts = shape.split("x");
        in = Integer.parseInt(parts[0]);
        out = Integer.parseInt(parts[1]);
        SplittableRandom random = new SplittableRandom(29);
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = HalfFloats.roundTo(DType.F16, (float) random.nextDouble(-1, 1));
        }
        xs = new float[tokens * in];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = HalfFloats.roundTo(DType.F16, (float) random.nextDouble(-1, 1));
        }
        ys = new float[tokens * out];
        backend = new CpuBackendProvider().open(0, new CpuOptions(threads, true, true));
        x = HostData.upload(backend, DType.F16, Shape.of(tokens, in), xs);
        y = HostData.upload(backend, DType.F32, Shape.of(tokens, out), ys);
        denseWeight = DeviceWeights.uploadDense(backend, w, out, in, DType.F16);
        twoFour = DeviceWeights.upload(backend, TwoFourWeights.compress(TwoFourPruning.prune(w, out, in), out, in,
                DType.F16));
        csr5 = DeviceWeights.upload(backend, CsrMatrix.fromDense(keep(w, 0.05, random), out, in, DType.F16));
        csr10 = DeviceWeights.upload(backend, CsrMatrix.fromDense(keep(w, 0.10, random), out, in, DType.F16));
    }

    /** W with each element kept with probability {@code density}, the rest zero. */
    private static float[] keep(float[] w, double density, SplittableRandom random) {
        float[] sparse = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            sparse[i] = random.nextDouble() < density ? w[i] : 0f;
        }
        return sparse;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public DeviceArray twoFour() {
        backend.ops().gemm().linearTwoFour(x, twoFour, null, Activation.NONE, y);
        return y;
    }

    @Benchmark
    public DeviceArray csr5() {
        backend.ops().gemm().linearCsr(x, csr5, null, Activation.NONE, y);
        return y;
    }

    @Benchmark
    public DeviceArray csr10() {
        backend.ops().gemm().linearCsr(x, csr10, null, Activation.NONE, y);
        return y;
    }

    @Benchmark
    public DeviceArray denseBackend() {
        backend.ops().gemm().linearDense(x, denseWeight, null, Activation.NONE, y);
        return y;
    }
}

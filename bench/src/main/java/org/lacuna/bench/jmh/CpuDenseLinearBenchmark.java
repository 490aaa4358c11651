package org.lacuna.bench.jmh;

import java.util.SplittableRandom;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.cpu.CpuOptions;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.Activation;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The serving CPU backend's dense linear ({@code y = act(x · wᵀ + b)}, fp32) at transformer-block shapes, through
 * each GEMM path: OpenBLAS (one thread per tile) and the Vector API Java GEMM, split over {@code threads} workers.
 * GFLOP/s = 2 · tokens · in · out / time.
 */
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CpuDenseLinearBenchmark extends CpuBenchmarkSettings.WithVectorApi {
    /** tokens x in x out. */
    @Param({"128x384x1536", "512x768x3072", "2048x768x3072"})
    String shape;

    @Param({"blas", "vector"})
    String gemm;

    @Param({"2"})
    int threads;

    @Param({"NONE", "GELU"})
    Activation activation;

    Backend backend;
    DeviceArray x;
    DeviceArray w;
    DeviceArray bias;
    DeviceArray y;

    @Setup
    public void setUp() {
        String[] dims = shape.split("x");
        int tokens = Integer.parseInt(dims[0]);
        int in = Integer.parseInt(dims[1]);
        int out = Integer.parseInt(dims[2]);
        backend = new CpuBackendProvider().open(0, new CpuOptions(threads, true, gemm.equals("blas")));
        SplittableRandom random = new SplittableRandom(7);
        x = HostData.upload(backend, DType.F32, Shape.of(tokens, in), values(random, tokens * in));
        w = HostData.upload(backend, DType.F32, Shape.of(out, in), values(random, out * in));
        bias = HostData.upload(backend, DType.F32, Shape.of(out), values(random, out));
        y = HostData.upload(backend, DType.F32, Shape.of(tokens, out), new float[tokens * out]);
    }

    private static float[] values(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextDouble(-1, 1);
        }
        return values;
    }

    @TearDown
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public DeviceArray linearDense() {
        backend.ops().gemm().linearDense(x, w, bias, activation, y);
        return y;
    }
}

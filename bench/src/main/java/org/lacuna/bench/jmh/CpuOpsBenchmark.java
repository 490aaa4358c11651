package org.lacuna.bench.jmh;

import java.util.SplittableRandom;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The CPU backend's ops: the fallback that serves without a GPU and the reference every GPU test runs, so its
 * speed bounds both the fallback path and the test suite's time.
 */
public class CpuOpsBenchmark extends CpuBenchmarkSettings {
    @Param({"F32", "F16"})
    DType dtype;

    int rows = 1024;
    int cols = 1024;
    Backend backend;
    DeviceArray x;
    DeviceArray bias;
    DeviceArray y;
    DeviceArray rowsOut;

    @Setup
    public void setUp() {
        backend = new CpuBackendProvider().open(0);
        SplittableRandom random = new SplittableRandom(3);
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(-4, 4);
        }
        float[] b = new float[cols];
        for (int i = 0; i < cols; i++) {
            b[i] = (float) random.nextDouble(-1, 1);
        }
        x = HostData.upload(backend, dtype, Shape.of(rows, cols), values);
        bias = HostData.upload(backend, DType.F32, Shape.of(cols), b);
        y = HostData.upload(backend, dtype, Shape.of(rows, cols), values);
        rowsOut = HostData.upload(backend, DType.F32, Shape.of(rows), new float[rows]);
    }

    @TearDown
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public DeviceArray biasGelu() {
        backend.ops().elementwise().biasActivation(x, bias, Activation.GELU, y);
        return y;
    }

    @Benchmark
    public DeviceArray rowL2() {
        backend.ops().elementwise().rowReduce(x, RowReduction.L2, rowsOut);
        return rowsOut;
    }
}

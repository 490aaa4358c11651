package org.lacuna.bench.jmh;

import java.util.SplittableRandom;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The CPU backend's fused residual add + layer norm ({@code residualLayerNorm}, which the post-norm encoder layers
 * run) against the two ops it replaces, {@code add} then {@code layerNorm}, in one run so that the two compare. The
 * activations are the MiniLM-shaped encoder's: hidden 384, one sentence of 128 tokens (128 rows) or a batch of 32
 * (4096 rows). Memory traffic per call, in passes over the {@code rows × 384} activations: fused 3 (reads x and the
 * residual, writes y); separate 5 (add reads 2 and writes 1, the norm reads 1 and writes 1). One forward of the
 * 6-layer encoder runs 12 of them.
 */
public class ResidualLayerNormBenchmark extends CpuBenchmarkSettings.WithVectorApi {
    private static final int HIDDEN = 384;
    private static final double EPSILON = 1e-12;

    @Param({"F16", "F32"})
    DType dtype;

    @Param({"128", "4096"})
    int rows;

    private Backend backend;
    private ElementwiseOps ops;
    private DeviceArray x;
    private DeviceArray residual;
    private DeviceArray gamma;
    private DeviceArray beta;
    private DeviceArray sum;
    private DeviceArray y;

    @Setup
    public void setUp() {
        backend = new CpuBackendProvider().open(0);
        ops = backend.ops().elementwise();
        SplittableRandom random = new SplittableRandom(11);
        Shape shape = Shape.of(rows, HIDDEN);
        x = HostData.upload(backend, dtype, shape, values(random, rows * HIDDEN, 2));
        residual = HostData.upload(backend, dtype, shape, values(random, rows * HIDDEN, 2));
        gamma = HostData.upload(backend, DType.F32, Shape.of(HIDDEN), values(random, HIDDEN, 1));
        beta = HostData.upload(backend, DType.F32, Shape.of(HIDDEN), values(random, HIDDEN, 1));
        sum = HostData.upload(backend, dtype, shape, new float[rows * HIDDEN]);
        y = HostData.upload(backend, dtype, shape, new float[rows * HIDDEN]);
    }

    private static float[] values(SplittableRandom random, int count, double bound) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) random.nextDouble(-bound, bound);
        }
        return v;
    }

    @TearDown
    public void tearDown() {
        backend.close();
    }

    /** {@code y = LayerNorm(x + residual)} in one op. */
    @Benchmark
    public DeviceArray fused() {
        ops.residualLayerNorm(x, residual, gamma, beta, EPSILON, y);
        return y;
    }

    /** The same as two ops, the sum stored in between: what the encoder layer ran before the fused op. */
    @Benchmark
    public DeviceArray addThenLayerNorm() {
        ops.add(x, residual, sum);
        ops.layerNorm(sum, gamma, beta, EPSILON, y);
        return y;
    }
}

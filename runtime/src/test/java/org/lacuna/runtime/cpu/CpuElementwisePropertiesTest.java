package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ElementwiseConformance;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.testing.TestData;

/**
 * The elementwise ops over ragged shapes (rows 1..70, columns 1..300, mostly not multiples of the vector width) on
 * both paths (Vector API and plain Java), each with 1 and 3 threads and chunks small enough that every shape splits:
 * 1 and 3 threads must agree bit for bit (and the two paths too, but for GELU), and every result must match double
 * precision (casts exactly).
 */
class CpuElementwisePropertiesTest {
    /** Elements per chunk: small, so that even a 1x300 row or a 70x1 column split into several chunks. */
    private static final long TINY_CHUNK = 96;

    private static Backend backend;
    private static final List<Path> PATHS = new ArrayList<>();

    /** One way of running the ops: a kernel path and a thread count. */
    record Path(String name, CpuContext context, CpuElementwiseOps ops) {
    }

    @BeforeContainer
    static void open() {
        backend = new CpuBackendProvider().open(0, new CpuOptions(1, false, false));
        List<Boolean> vector = CpuCapabilities.vectorApiAvailable() ? List.of(true, false) : List.of(false);
        for (boolean v : vector) {
            for (int threads : new int[] {1, 3}) {
                CpuContext context = CpuContext.open(new CpuOptions(threads, v, false));
                PATHS.add(new Path((v ? "vector" : "scalar") + "/" + threads, context,
                        new CpuElementwiseOps(context, TINY_CHUNK)));
            }
        }
    }

    @AfterContainer
    static void close() {
        PATHS.forEach(p -> p.context().threads().close());
        PATHS.clear();
        backend.close();
    }

    @Provide
    Arbitrary<DType> floats() {
        return Arbitraries.of(DType.F32, DType.F16, DType.BF16);
    }

    @Property(tries = 60)
    void biasActivationMatchesDoublePrecision(@ForAll @IntRange(min = 1, max = 70) int rows,
                                              @ForAll @IntRange(min = 1, max = 300) int cols,
                                              @ForAll("floats") DType in, @ForAll("floats") DType out,
                                              @ForAll Activation activation, @ForAll boolean withBias,
                                              @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = TestData.uniform(random, rows * cols, 5f, in);
        float[] bias = TestData.uniform(random, cols, 1f, DType.F32);
        DeviceArray xs = HostData.upload(backend, in, Shape.of(rows, cols), x);
        DeviceArray bs = HostData.upload(backend, DType.F32, Shape.of(cols), bias);
        try {
            List<float[]> results = runEveryPath(out, Shape.of(rows, cols),
                    (ops, ys) -> ops.biasActivation(xs, withBias ? bs : null, activation, ys));
            // Bias and ReLU are one rounding each, the same on both paths; the two GELUs round differently.
            for (int i = 1; i < results.size() && activation != Activation.GELU; i++) {
                assertArrayEquals(bits(results.get(0)), bits(results.get(i)), PATHS.get(0).name() + " and "
                        + PATHS.get(i).name() + " differ");
            }
            for (float[] y : results) {
                for (int i = 0; i < x.length; i++) {
                    double expected = activation.apply((double) x[i] + (withBias ? bias[i % cols] : 0.0));
                    double tolerance = TestData.ulp(out, expected) + 8 * Math.ulp((float) expected) + 1e-6;
                    assertEquals(expected, y[i], tolerance, activation + " " + in + "->" + out + " at " + i);
                }
            }
        } finally {
            xs.buffer().close();
            bs.buffer().close();
        }
    }

    @Property(tries = 60)
    void castRoundsExactlyAsHalfFloats(@ForAll @IntRange(min = 1, max = 70) int rows,
                                       @ForAll @IntRange(min = 1, max = 300) int cols,
                                       @ForAll("floats") DType in, @ForAll("floats") DType out,
                                       @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = TestData.uniform(random, rows * cols, 70000f, in);
        // Specials and the edges of F16's range: overflow to infinity, subnormals, ties, NaN and signed zeros.
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, 65504f, 65520f,
            -65519.99f, 6.1035156e-5f, 5.9604645e-8f, 2.9802322e-8f, -1.0e-7f, 1.00048828125f, 3.4e38f, 1e-40f};
        for (int i = 0; i < specials.length && i < x.length; i++) {
            x[random.nextInt(x.length)] = HalfFloats.roundTo(in, specials[i]);
        }
        DeviceArray xs = HostData.upload(backend, in, Shape.of(rows, cols), x);
        try {
            for (float[] y : runEveryPath(out, Shape.of(rows, cols), (ops, ys) -> ops.cast(xs, ys))) {
                for (int i = 0; i < x.length; i++) {
                    int expected = Float.floatToRawIntBits(HalfFloats.roundTo(out, x[i]));
                    assertEquals(expected, Float.floatToRawIntBits(y[i]), in + "->" + out + " of " + x[i] + " at " + i);
                }
            }
        } finally {
            xs.buffer().close();
        }
    }

    @Property(tries = 60)
    void rowReduceMatchesDoublePrecision(@ForAll @IntRange(min = 1, max = 70) int rows,
                                         @ForAll @IntRange(min = 1, max = 300) int cols,
                                         @ForAll("floats") DType in, @ForAll RowReduction reduction,
                                         @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = TestData.uniform(random, rows * cols, 2f, in);
        DeviceArray xs = HostData.upload(backend, in, Shape.of(rows, cols), x);
        try {
            List<float[]> results = runEveryPath(DType.F32, Shape.of(rows), (ops, ys) -> ops.rowReduce(xs, reduction, ys));
            for (float[] out : results) {
                ElementwiseConformance.assertRowReductions(x, rows, cols, reduction, out, in.toString());
            }
        } finally {
            xs.buffer().close();
        }
    }

    @Property(tries = 40)
    void residualLayerNormIsAddThenLayerNormInOnePass(@ForAll @IntRange(min = 1, max = 150) int rows,
                                                      @ForAll @IntRange(min = 1, max = 300) int cols,
                                                      @ForAll("floats") DType dtype, @ForAll boolean withBeta,
                                                      @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Shape shape = Shape.of(rows, cols);
        float[] x = TestData.uniform(random, rows * cols, 4f, dtype);
        float[] residual = TestData.uniform(random, rows * cols, 4f, dtype);
        if (dtype != DType.F32) {
            for (int i = 0; i < x.length; i++) {
                x[i] = Math.round(x[i] * 8) / 8f;
                residual[i] = Math.round(residual[i] * 8) / 8f;
            }
        }
        DeviceArray xs = HostData.upload(backend, dtype, shape, x);
        DeviceArray rs = HostData.upload(backend, dtype, shape, residual);
        DeviceArray gamma = HostData.upload(backend, DType.F32, Shape.of(cols), TestData.uniform(random, cols, 1f, DType.F32));
        DeviceArray beta = withBeta ? HostData.upload(backend, DType.F32, Shape.of(cols),
                TestData.uniform(random, cols, 1f, DType.F32)) : null;
        DeviceArray sum = new DeviceArray(backend.allocate(shape.elementCount() * dtype.byteSize()), 0, dtype, shape);
        try {
            List<float[]> fused = runEveryPath(dtype, shape, (ops, ys) -> ops.residualLayerNorm(xs, rs, gamma, beta, 1e-5, ys));
            List<float[]> unfused = runEveryPath(dtype, shape, (ops, ys) -> {
                ops.add(xs, rs, sum);
                ops.layerNorm(sum, gamma, beta, 1e-5, ys);
            });
            // The same fp32 arithmetic in the same order: the bits of add then layer norm (for 16-bit storage the
            // inputs are multiples of 1/8, whose sums the storage type holds exactly, as the fp32 sum the fused op
            // keeps).
            for (int p = 0; p < PATHS.size(); p++) {
                assertArrayEquals(bits(unfused.get(p)), bits(fused.get(p)), PATHS.get(p).name() + " fused " + dtype);
            }
        } finally {
            for (DeviceArray array : new DeviceArray[] {xs, rs, gamma, beta, sum}) {
                if (array != null) {
                    array.buffer().close();
                }
            }
        }
    }

    @FunctionalInterface
    private interface Op {
        void run(CpuElementwiseOps ops, DeviceArray out);
    }

    /**
     * Runs the op on every path into a NaN-poisoned output; asserts that 1 and 3 threads agree bit for bit on each
     * kernel path and returns every path's result.
     */
    private static List<float[]> runEveryPath(DType outType, Shape shape, Op op) {
        List<float[]> results = new ArrayList<>();
        for (Path path : PATHS) {
            DeviceArray ys = new DeviceArray(backend.allocate(shape.elementCount() * outType.byteSize()), 0, outType, shape);
            try {
                backend.fill(ys.buffer(), 0, ys.byteSize(), (byte) 0xFF);
                op.run(path.ops(), ys);
                results.add(HostData.downloadFloats(backend, ys));
            } finally {
                ys.buffer().close();
            }
        }
        for (int i = 0; i + 1 < results.size(); i += 2) {
            assertArrayEquals(bits(results.get(i)), bits(results.get(i + 1)),
                    PATHS.get(i).name() + " and " + PATHS.get(i + 1).name() + " differ");
        }
        return results;
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}

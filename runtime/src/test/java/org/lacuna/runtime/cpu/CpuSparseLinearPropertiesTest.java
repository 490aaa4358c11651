package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.gemm.CsrMatrix;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.gemm.TwoFourWeights;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.testing.TestData;

/**
 * The serving 2:4 and CSR linear layers over random ragged shapes (tokens 1..300, {@code in} off every multiple of
 * 4 and 8, groups with 0, 1 or 2 non-zeros, CSR rows with no entries, weights with none at all): within fp32
 * tolerance of the double reference, and bit for bit the same with 1 and with 3 threads, and on the Vector API and
 * the scalar path except after GELU: the sparse layers end through the dense layers' epilogue, whose GELU rounds in
 * fp32 lanes on the Vector API and in double on the scalar path (each the same way every time).
 */
class CpuSparseLinearPropertiesTest {
    private static Backend reference;
    /** Vector API on 1 thread, Vector API on 3 threads, scalar on 2 threads. */
    private static List<Backend> serving;

    @BeforeContainer
    static void open() {
        reference = new ReferenceBackendProvider().open(0);
        serving = List.of(new CpuBackendProvider().open(0, new CpuOptions(1, true, false)),
                new CpuBackendProvider().open(0, new CpuOptions(3, true, false)),
                new CpuBackendProvider().open(0, new CpuOptions(2, false, false)));
    }

    @AfterContainer
    static void close() {
        reference.close();
        serving.forEach(Backend::close);
    }

    /** A case: its shape and every input, drawn from one seed. */
    record Layer(int tokens, int out, int in, DType dtype, DType outType, Activation activation, float[] x, float[] w,
                 float[] bias) {
        static Layer draw(long seed, int tokens, int out, int in, double zeros) {
            SplittableRandom random = new SplittableRandom(seed);
            DType dtype = random.nextBoolean() ? DType.F16 : DType.BF16;
            List<DType> floats = List.of(DType.F32, DType.F16, DType.BF16);
            float[] w = TestData.uniform(random, out * in, 1f, dtype);
            for (int i = 0; i < w.length; i++) {
                if (random.nextDouble() < zeros) {
                    w[i] = 0f;
                }
            }
            return new Layer(tokens, out, in, dtype, floats.get(random.nextInt(3)),
                    Activation.values()[random.nextInt(3)], TestData.uniform(random, tokens * in, 1f, dtype), w,
                    random.nextBoolean() ? TestData.uniform(random, out, 0.5f, DType.F32) : null);
        }

        @Override
        public String toString() {
            return "tokens=" + tokens + " out=" + out + " in=" + in + " " + dtype + "->" + outType + " " + activation
                    + (bias == null ? "" : " +bias");
        }
    }

    @Property(tries = 60)
    void twoFourMatchesTheReferenceOnEveryPath(@ForAll @IntRange(min = 1, max = 300) int tokens,
                                               @ForAll @IntRange(min = 1, max = 70) int out,
                                               @ForAll @IntRange(min = 1, max = 150) int in, @ForAll long seed) {
        // A quarter of the values zero before pruning leaves groups with 2, 1 and 0 non-zeros.
        Layer layer = Layer.draw(seed, tokens, out, in, 0.25);
        float[] pruned = TwoFourPruning.prune(layer.w(), out, in);
        TwoFourWeights weights = TwoFourWeights.compress(pruned, out, in, layer.dtype());
        checkEveryPath(layer, backend -> {
            TwoFourWeight w = DeviceWeights.upload(backend, weights);
            return new Run(y -> backend.ops().gemm().linearTwoFour(y.x(), w, y.bias(), layer.activation(), y.y()),
                    () -> DeviceWeights.release(w));
        });
    }

    @Property(tries = 60)
    void csrMatchesTheReferenceOnEveryPath(@ForAll @IntRange(min = 1, max = 300) int tokens,
                                           @ForAll @IntRange(min = 1, max = 70) int out,
                                           @ForAll @IntRange(min = 1, max = 150) int in, @ForAll long seed) {
        // Densities from none at all to most entries kept; sparse rows are often empty.
        double zeros = new double[] {1.0, 0.99, 0.95, 0.9, 0.5}[(int) Math.floorMod(seed, 5L)];
        Layer layer = Layer.draw(seed, tokens, out, in, zeros);
        CsrMatrix matrix = CsrMatrix.fromDense(layer.w(), out, in, layer.dtype());
        checkEveryPath(layer, backend -> {
            CsrWeight w = DeviceWeights.upload(backend, matrix);
            return new Run(y -> backend.ops().gemm().linearCsr(y.x(), w, y.bias(), layer.activation(), y.y()),
                    () -> DeviceWeights.release(w));
        });
    }

    /**
     * Shapes past the properties' range: several row blocks (the last one ragged, not a whole number of transposed
     * 16-row blocks) by several token tiles (the last part-filled), so blocks of work split rows and tokens on every
     * thread count.
     */
    @Example
    void twoFourOverSeveralRowBlocksAndTokenTiles() {
        Layer layer = Layer.draw(71, 300, 801, 70, 0.25);
        float[] pruned = TwoFourPruning.prune(layer.w(), layer.out(), layer.in());
        TwoFourWeights weights = TwoFourWeights.compress(pruned, layer.out(), layer.in(), layer.dtype());
        checkEveryPath(layer, backend -> {
            TwoFourWeight w = DeviceWeights.upload(backend, weights);
            return new Run(y -> backend.ops().gemm().linearTwoFour(y.x(), w, y.bias(), layer.activation(), y.y()),
                    () -> DeviceWeights.release(w));
        });
    }

    /**
     * Past the properties' {@code in}: 17 column blocks of the 2:4 form, the last holding 2 groups and its last group
     * 2 columns, so (with 512-bit vectors) the narrow tile (40 tokens) takes three passes of 8 blocks, the last ragged,
     * and the wide tile (130 tokens) one block per pass; with 256-bit vectors both counts take the wide tile.
     */
    @Example
    void twoFourOverSeveralColumnBlocksAndPasses() {
        for (int tokens : new int[] {40, 130}) {
            Layer layer = Layer.draw(79, tokens, 37, 1030, 0.25);
            float[] pruned = TwoFourPruning.prune(layer.w(), layer.out(), layer.in());
            TwoFourWeights weights = TwoFourWeights.compress(pruned, layer.out(), layer.in(), layer.dtype());
            checkEveryPath(layer, backend -> {
                TwoFourWeight w = DeviceWeights.upload(backend, weights);
                return new Run(y -> backend.ops().gemm().linearTwoFour(y.x(), w, y.bias(), layer.activation(),
                        y.y()), () -> DeviceWeights.release(w));
            });
        }
    }

    @Example
    void csrOverSeveralRowBlocksAndTokenTiles() {
        Layer layer = Layer.draw(73, 300, 801, 70, 0.9);
        CsrMatrix matrix = CsrMatrix.fromDense(layer.w(), layer.out(), layer.in(), layer.dtype());
        checkEveryPath(layer, backend -> {
            CsrWeight w = DeviceWeights.upload(backend, matrix);
            return new Run(y -> backend.ops().gemm().linearCsr(y.x(), w, y.bias(), layer.activation(), y.y()),
                    () -> DeviceWeights.release(w));
        });
    }

    /** The arrays of one call. */
    record Call(DeviceArray x, DeviceArray bias, DeviceArray y) {
    }

    /** One op on one backend, and how to free its weight. */
    record Run(java.util.function.Consumer<Call> op, Runnable release) {
    }

    private static void checkEveryPath(Layer layer, Function<Backend, Run> prepare) {
        float[] expected = run(reference, layer, prepare);
        float[] first = null;
        for (Backend backend : serving) {
            float[] y = run(backend, layer, prepare);
            for (int i = 0; i < y.length; i++) {
                double tolerance = 2 * TestData.ulp(layer.outType(), expected[i]) + 2e-6 * layer.in() + 1e-6;
                assertEquals(expected[i], y[i], tolerance, layer + " at " + i);
            }
            boolean scalar = backend == serving.get(serving.size() - 1);
            if (first == null) {
                first = y;
            } else if (!scalar || layer.activation() != Activation.GELU) {
                assertArrayEquals(first, y, layer + ": paths or thread counts disagree in some bit");
            }
        }
    }

    private static float[] run(Backend backend, Layer layer, Function<Backend, Run> prepare) {
        DeviceArray x = HostData.upload(backend, layer.dtype(), Shape.of(layer.tokens(), layer.in()), layer.x());
        DeviceArray bias = layer.bias() == null ? null
                : HostData.upload(backend, DType.F32, Shape.of(layer.out()), layer.bias());
        DeviceArray y = new DeviceArray(backend.allocate((long) layer.tokens() * layer.out()
                * layer.outType().byteSize()), 0, layer.outType(), Shape.of(layer.tokens(), layer.out()));
        backend.fill(y.buffer(), 0, y.byteSize(), (byte) 0xFF); // NaN everywhere: an unwritten output fails
        Run op = prepare.apply(backend);
        try {
            op.op().accept(new Call(x, bias, y));
            float[] result = HostData.downloadFloats(backend, y);
            for (float v : result) {
                assertTrue(!Float.isNaN(v), layer + ": an output was not written");
            }
            return result;
        } finally {
            op.release().run();
            x.buffer().close();
            y.buffer().close();
            if (bias != null) {
                bias.buffer().close();
            }
        }
    }
}

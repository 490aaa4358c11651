package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.kernels.Epilogue;
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
import org.lacuna.runtime.testing.TestData;

/**
 * The sparse layers' epilogue, applied a strip of tokens at a time as the results leave the tile: bit for bit the
 * dense layers' epilogue ({@link Epilogue#biasActivation}, then rounding to y's dtype) over the same layer's plain
 * fp32 results, for every activation, with and without bias, into F32, F16 and BF16, over token counts and rows off
 * every multiple of the 16-token strip and 16-row transposed block, y poisoned before the call; and the same bits on
 * 1 and 2 threads.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuSparseEpilogueTest {
    /** Vector API on 1 and on 2 threads, then the scalar path on 2 threads. */
    private List<Backend> backends;

    @BeforeAll
    void open() {
        backends = List.of(new CpuBackendProvider().open(0, new CpuOptions(1, true, false)),
                new CpuBackendProvider().open(0, new CpuOptions(2, true, false)),
                new CpuBackendProvider().open(0, new CpuOptions(2, false, false)));
    }

    @AfterAll
    void close() {
        backends.forEach(Backend::close);
    }

    /** One sparse layer's call on a backend, its weight uploaded there. */
    private interface LayerCall<W> {
        void run(Backend backend, DeviceArray x, W w, DeviceArray bias, Activation activation, DeviceArray y);
    }

    @Test
    void twoFourEndsItsResultsAsTheDenseEpilogueDoes() {
        // Rows: 16-row blocks plus a ragged 5 or 8; tokens under one strip, a whole strip, past several, past a wide
        // tile.
        int[][] shapes = {{1, 37}, {16, 21}, {45, 69}, {130, 40}, {300, 277}};
        for (int[] shape : shapes) {
            int tokens = shape[0];
            int out = shape[1];
            int in = 52;
            SplittableRandom random = new SplittableRandom(tokens * 1000L + out);
            float[] x = TestData.uniform(random, tokens * in, 1f, DType.F16);
            float[] pruned = TwoFourPruning.prune(TestData.uniform(random, out * in, 1f, DType.F16), out, in);
            TwoFourWeights weights = TwoFourWeights.compress(pruned, out, in, DType.F16);
            check(tokens, out, in, DType.F16, x, random, backend -> DeviceWeights.upload(backend, weights),
                    (TwoFourWeight w) -> DeviceWeights.release(w), (backend, input, w, bias, activation, y) ->
                            backend.ops().gemm().linearTwoFour(input, w, bias, activation, y));
        }
    }

    @Test
    void csrEndsItsResultsAsTheDenseEpilogueDoes() {
        int tokens = 83;
        int out = 50;
        int in = 40;
        SplittableRandom random = new SplittableRandom(5);
        float[] x = TestData.uniform(random, tokens * in, 1f, DType.BF16);
        float[] dense = TestData.uniform(random, out * in, 1f, DType.BF16);
        for (int i = 0; i < dense.length; i++) {
            if (random.nextDouble() < 0.8) {
                dense[i] = 0f;
            }
        }
        CsrMatrix matrix = CsrMatrix.fromDense(dense, out, in, DType.BF16);
        check(tokens, out, in, DType.BF16, x, random, backend -> DeviceWeights.upload(backend, matrix),
                (CsrWeight w) -> DeviceWeights.release(w), (backend, input, w, bias, activation, y) ->
                        backend.ops().gemm().linearCsr(input, w, bias, activation, y));
    }

    private <W> void check(int tokens, int out, int in, DType xType, float[] x, SplittableRandom random,
                           Function<Backend, W> upload, Consumer<W> release, LayerCall<W> layer) {
        float[] biasValues = TestData.uniform(random, out, 0.5f, DType.F32);
        // The one-thread backend's results, case by case in the loops' order, for the two-thread one to match.
        List<float[]> oneThread = new java.util.ArrayList<>();
        for (int b = 0; b < backends.size(); b++) {
            Backend backend = backends.get(b);
            boolean vectorApi = b < 2;
            int caseIndex = 0;
            W w = upload.apply(backend);
            DeviceArray input = HostData.upload(backend, xType, Shape.of(tokens, in), x);
            DeviceArray bias = HostData.upload(backend, DType.F32, Shape.of(out), biasValues);
            try {
                for (Activation activation : Activation.values()) {
                    for (boolean withBias : new boolean[] {false, true}) {
                        for (DType outType : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                            String label = "tokens=" + tokens + " out=" + out + " " + activation
                                    + (withBias ? " +bias " : " ") + outType + " vectorApi=" + vectorApi;
                            DeviceArray plain = poisoned(backend, DType.F32, tokens, out);
                            DeviceArray y = poisoned(backend, outType, tokens, out);
                            try {
                                layer.run(backend, input, w, null, Activation.NONE, plain);
                                layer.run(backend, input, w, withBias ? bias : null, activation, y);
                                float[] expected = HostData.downloadFloats(backend, plain);
                                Epilogue.biasActivation(vectorApi, expected, 0, out, tokens, out,
                                        withBias ? biasValues : null, 0, activation);
                                float[] actual = HostData.downloadFloats(backend, y);
                                for (int i = 0; i < expected.length; i++) {
                                    assertEquals(Float.floatToRawIntBits(HalfFloats.roundTo(outType, expected[i])),
                                            Float.floatToRawIntBits(actual[i]), label + " at token " + i / out
                                                    + " row " + i % out);
                                }
                                if (b == 0) {
                                    oneThread.add(actual);
                                } else if (b == 1) {
                                    float[] first = oneThread.get(caseIndex);
                                    for (int i = 0; i < first.length; i++) {
                                        assertEquals(Float.floatToRawIntBits(first[i]),
                                                Float.floatToRawIntBits(actual[i]), label
                                                        + ": 1 and 2 threads differ at " + i);
                                    }
                                }
                                caseIndex++;
                            } finally {
                                plain.buffer().close();
                                y.buffer().close();
                            }
                        }
                    }
                }
            } finally {
                release.accept(w);
                input.buffer().close();
                bias.buffer().close();
            }
        }
    }

    /** A y of all-ones bits (NaN in every float type), so an element the call leaves unwritten fails. */
    private static DeviceArray poisoned(Backend backend, DType dtype, int tokens, int out) {
        DeviceArray y = new DeviceArray(backend.allocate((long) tokens * out * dtype.byteSize()), 0, dtype,
                Shape.of(tokens, out));
        backend.fill(y.buffer(), 0, y.byteSize(), (byte) 0xFF);
        return y;
    }
}

package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
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
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.testing.TestData;

/**
 * The serving CPU attention over random ragged batches (lengths 0 and 1 included, up to 300: several query and key
 * blocks), head dims 32/64/128, causal or not, packed or separate Q/K/V and keep ratios: the Vector API and scalar
 * paths each agree with the reference backend, and one thread gives bit for bit what two or three give.
 */
class CpuAttentionPropertiesTest {
    private static Backend reference;
    /** Vector path on 1 and 3 threads, scalar path on 1 and 2. */
    private static Backend[] serving;

    @BeforeContainer
    static void open() {
        reference = new ReferenceBackendProvider().open(0);
        serving = new Backend[] {new CpuBackendProvider().open(0, new CpuOptions(1, true, false)),
            new CpuBackendProvider().open(0, new CpuOptions(3, true, false)),
            new CpuBackendProvider().open(0, new CpuOptions(1, false, false)),
            new CpuBackendProvider().open(0, new CpuOptions(2, false, false))};
    }

    @AfterContainer
    static void close() {
        reference.close();
        for (Backend b : serving) {
            b.close();
        }
    }

    @Provide
    Arbitrary<int[]> lengths() {
        return Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(1, Arbitraries.of(0, 1)),
                        net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0, 300)))
                .array(int[].class).ofMinSize(1).ofMaxSize(4);
    }

    @Provide
    Arbitrary<Integer> headDims() {
        return Arbitraries.of(32, 64, 128);
    }

    /** One attention's outputs on one backend: out, lse, then the mean and CLS key scores. */
    private static float[][] run(Backend backend, int[] lengths, int tail, AttentionOptions options, DType dtype,
                                 boolean packed, float[] qkv) {
        List<DeviceArray> arrays = new ArrayList<>();
        try {
            int[] offsets = offsets(lengths);
            long rows = offsets[lengths.length] + tail;
            int width = options.width();
            DeviceArray o = track(arrays, HostData.upload(backend, Shape.of(offsets.length), offsets));
            SequenceBatch batch = new SequenceBatch(o, rows, Arrays.stream(lengths).max().orElse(0));
            AttentionInputs inputs;
            if (packed) {
                inputs = AttentionInputs.packed(track(arrays, HostData.upload(backend, dtype, Shape.of(rows, 3L * width), qkv)));
            } else {
                DeviceArray[] parts = new DeviceArray[3];
                for (int part = 0; part < 3; part++) {
                    float[] values = new float[Math.toIntExact(rows * width)];
                    for (int r = 0; r < rows; r++) {
                        System.arraycopy(qkv, r * 3 * width + part * width, values, r * width, width);
                    }
                    parts[part] = track(arrays, HostData.upload(backend, dtype, Shape.of(rows, width), values));
                }
                inputs = AttentionInputs.separate(parts[0], parts[1], parts[2]);
            }
            DeviceArray out = track(arrays, HostData.upload(backend, dtype, Shape.of(rows, width),
                    nan(Math.toIntExact(rows * width))));
            DeviceArray lse = track(arrays, HostData.upload(backend, DType.F32, Shape.of(options.heads(), rows),
                    nan(Math.toIntExact(options.heads() * rows))));
            backend.ops().attention().attention(inputs, batch, options, out, lse);
            float[][] result = new float[4][];
            result[0] = HostData.downloadFloats(backend, out);
            result[1] = HostData.downloadFloats(backend, lse);
            for (KeyScore score : KeyScore.values()) {
                DeviceArray scores = track(arrays, HostData.upload(backend, DType.F32, Shape.of(rows),
                        nan(Math.toIntExact(rows))));
                backend.ops().attention().keyAttention(inputs, batch, options, lse, score, scores);
                result[score == KeyScore.CLS ? 3 : 2] = HostData.downloadFloats(backend, scores);
            }
            return result;
        } finally {
            arrays.forEach(a -> a.buffer().close());
        }
    }

    @Property(tries = 25)
    void attentionAgreesWithTheReferenceOnEveryPathAndThreadCount(@ForAll("lengths") int[] lengths,
            @ForAll @IntRange(max = 2) int tail, @ForAll("headDims") int headDim, @ForAll @IntRange(min = 1, max = 3) int heads,
            @ForAll boolean causal, @ForAll boolean packed, @ForAll boolean bf16, @ForAll long seed) {
        DType dtype = bf16 ? DType.BF16 : DType.F16;
        AttentionOptions options = AttentionOptions.of(heads, headDim).withCausal(causal);
        long rows = Arrays.stream(lengths).sum() + tail;
        float[] qkv = TestData.uniform(new SplittableRandom(seed), Math.toIntExact(rows * 3 * options.width()), 1.5f, dtype);
        float[][] want = run(reference, lengths, tail, options, dtype, packed, qkv);
        float[][][] got = new float[serving.length][][];
        for (int b = 0; b < serving.length; b++) {
            got[b] = run(serving[b], lengths, tail, options, dtype, packed, qkv);
            String path = (b < 2 ? "vector" : "scalar") + " path";
            assertClose(want[0], got[b][0], dtype == DType.BF16 ? 2.5e-2 : 4e-3, 0, path + " output");
            // As the conformance suite: 1e-4 · max(1, |lse|).
            assertClose(want[1], got[b][1], 1e-4, 1e-4, path + " logSumExp");
            assertClose(want[2], got[b][2], 1e-6, 2e-4, path + " mean key attention");
            assertClose(want[3], got[b][3], 1e-6, 2e-4, path + " CLS key attention");
        }
        for (int k = 0; k < 4; k++) {
            assertArrayEquals(bits(got[0][k]), bits(got[1][k]), "vector path, 1 vs 3 threads, output " + k);
            assertArrayEquals(bits(got[2][k]), bits(got[3][k]), "scalar path, 1 vs 2 threads, output " + k);
        }
    }

    @Property(tries = 20)
    void tokenDroppingKeepsTheReferencesTokensAndRowOpsDoNotDependOnThreads(@ForAll("lengths") int[] lengths,
            @ForAll("headDims") int headDim, @ForAll boolean causal,
            @ForAll("keepRatios") double ratio, @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] offsets = offsets(lengths);
        int rows = offsets[lengths.length];
        float[] scores = new float[rows];
        for (int i = 0; i < rows; i++) {
            scores[i] = random.nextInt(3) == 0 ? random.nextInt(-2, 3) : (float) random.nextDouble(-3, 3);
        }
        SelectionRule rule = SelectionRule.keepRatio(ratio).pinningPrefix(1);
        int[][] want = select(reference, lengths, scores, rule);
        for (Backend b : serving) {
            int[][] got = select(b, lengths, scores, rule);
            for (int k = 0; k < want.length; k++) {
                assertArrayEquals(want[k], got[k], "selection output " + k + " ratio " + ratio);
            }
        }
        // Layer norm and the residual add over more rows than one chunk: 1 thread vs 3, bit for bit.
        int layerRows = 1 + random.nextInt(150);
        int cols = headDim * (1 + random.nextInt(3));
        float[] x = TestData.uniform(random, layerRows * cols, 3f, DType.F32);
        float[] gamma = TestData.uniform(random, cols, 1f, DType.F32);
        float[] y = TestData.uniform(random, layerRows * cols, 3f, DType.F32);
        assertArrayEquals(bits(rowOps(serving[0], x, y, gamma, layerRows, cols)),
                bits(rowOps(serving[1], x, y, gamma, layerRows, cols)), "layer norm and add, 1 vs 3 threads");
        assertArrayEquals(bits(rowOps(serving[2], x, y, gamma, layerRows, cols)),
                bits(rowOps(serving[3], x, y, gamma, layerRows, cols)), "scalar layer norm and add, 1 vs 2 threads");
    }

    @Provide
    Arbitrary<Double> keepRatios() {
        return Arbitraries.of(1.0, 0.7, 0.5, 0.3, 1e-6);
    }

    private static int[][] select(Backend backend, int[] lengths, float[] scores, SelectionRule rule) {
        int[] offsets = offsets(lengths);
        DeviceArray o = HostData.upload(backend, Shape.of(offsets.length), offsets);
        DeviceArray s = HostData.upload(backend, DType.F32, Shape.of(scores.length), scores);
        SequenceBatch batch = new SequenceBatch(o, scores.length, Arrays.stream(lengths).max().orElse(0));
        try (TokenSelection selection = TokenSelection.allocate(backend, batch, rule, false)) {
            backend.ops().attention().selectTokens(s, batch, null, rule, selection);
            selection.verify(backend);
            return new int[][] {HostData.downloadInts(backend, selection.keptIndex()),
                HostData.downloadInts(backend, selection.slotOf()), HostData.downloadInts(backend, selection.keptOffsets())};
        } finally {
            o.buffer().close();
            s.buffer().close();
        }
    }

    private static float[] rowOps(Backend backend, float[] x, float[] residual, float[] gamma, int rows, int cols) {
        DeviceArray xs = HostData.upload(backend, DType.BF16, Shape.of(rows, cols), x);
        DeviceArray r = HostData.upload(backend, DType.BF16, Shape.of(rows, cols), residual);
        DeviceArray g = HostData.upload(backend, DType.F32, Shape.of(cols), gamma);
        DeviceArray y = HostData.upload(backend, DType.F32, Shape.of(rows, cols), nan(rows * cols));
        try {
            backend.ops().elementwise().add(xs, r, xs);
            backend.ops().elementwise().layerNorm(xs, g, null, 1e-5, y);
            return HostData.downloadFloats(backend, y);
        } finally {
            for (DeviceArray a : List.of(xs, r, g, y)) {
                a.buffer().close();
            }
        }
    }

    private static DeviceArray track(List<DeviceArray> arrays, DeviceArray a) {
        arrays.add(a);
        return a;
    }

    private static int[] offsets(int[] lengths) {
        int[] offsets = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) {
            offsets[b + 1] = offsets[b] + lengths[b];
        }
        return offsets;
    }

    private static float[] nan(int count) {
        float[] values = new float[count];
        Arrays.fill(values, Float.NaN);
        return values;
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    private static void assertClose(float[] want, float[] got, double absolute, double relative, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            if (Float.isInfinite(want[i])) {
                assertEquals(want[i], got[i], 0f, what + " at " + i);
            } else {
                assertEquals(want[i], got[i], absolute + relative * Math.abs(want[i]), what + " at " + i);
            }
        }
    }
}

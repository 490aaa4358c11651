package org.lacuna.runtime.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.AttentionConformance;
import org.lacuna.runtime.testing.GpuSupport;
import org.lacuna.runtime.testing.GpuTest;
import org.lacuna.runtime.testing.TestData;

/** The CUDA attention ops against the definitions (inherited) and against the CPU backend on larger inputs. */
@GpuTest
class CudaAttentionOpsGpuTest extends AttentionConformance {
    @Override
    protected Backend openBackend() {
        return GpuSupport.openCudaOrSkip();
    }

    /** Many tiles a sequence, every head dim and type: the GPU against the CPU reference on the same inputs. */
    @Test
    void longSequencesMatchTheCpuBackend() {
        SplittableRandom random = TestData.random("longAttention");
        int[] lengths = {1100, 0, 517};
        try (Backend cpu = new ReferenceBackendProvider().open(0)) {
            for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
                for (int headDim : new int[] {64, 128}) {
                    AttentionOptions options = AttentionOptions.of(2, headDim).withCausal(random.nextBoolean());
                    int rows = 1100 + 517 + 5;
                    float[] qkv = TestData.uniform(random, rows * 3 * options.width(), 2f, dtype);
                    float[] gpu = run(backend, lengths, rows, qkv, dtype, options);
                    float[] ref = run(cpu, lengths, rows, qkv, dtype, options);
                    for (int i = 0; i < ref.length; i++) {
                        assertEquals(ref[i], gpu[i], tolerance(dtype), dtype + " d=" + headDim + " causal="
                                + options.causal() + " at " + i);
                    }
                }
            }
        }
    }

    private static float[] run(Backend on, int[] lengths, int rows, float[] qkv, DType dtype, AttentionOptions options) {
        int[] offsets = offsets(lengths);
        DeviceArray offsetArray = HostData.upload(on, Shape.of(offsets.length), offsets);
        DeviceArray input = HostData.upload(on, dtype, Shape.of(rows, 3L * options.width()), qkv);
        DeviceArray out = new DeviceArray(on.allocate((long) rows * options.width() * 2), 0, dtype,
                Shape.of(rows, options.width()));
        DeviceArray lse = new DeviceArray(on.allocate(4L * options.heads() * rows), 0, DType.F32,
                Shape.of(options.heads(), rows));
        DeviceArray scores = new DeviceArray(on.allocate(4L * rows), 0, DType.F32, Shape.of(rows));
        try {
            SequenceBatch batch = new SequenceBatch(offsetArray, rows, 1100);
            on.ops().attention().attention(AttentionInputs.packed(input), batch, options, out, lse);
            on.ops().attention().keyAttention(AttentionInputs.packed(input), batch, options, lse,
                    KeyScore.MEAN_RECEIVED, scores);
            float[] o = HostData.downloadFloats(on, out);
            float[] s = HostData.downloadFloats(on, scores);
            float[] both = java.util.Arrays.copyOf(o, o.length + s.length);
            // Scores are ~1/length: scale them up so the shared tolerance means something for them too.
            for (int i = 0; i < s.length; i++) {
                both[o.length + i] = s[i] * 100f;
            }
            return both;
        } finally {
            offsetArray.buffer().close();
            input.buffer().close();
            out.buffer().close();
            lse.buffer().close();
            scores.buffer().close();
        }
    }

    /** Sequences far longer than a CTA's chunk, many ties, every rule: the kernels select exactly as the CPU does. */
    @Test
    void selectionOfLongSequencesMatchesTheCpuBackend() {
        SplittableRandom random = TestData.random("longSelection");
        int[] lengths = {70_000, 3, 0, 40_001};
        int rows = 110_004 + 7;
        float[] scores = scoresWithTies(random, rows);
        SelectionRule[] rules = {SelectionRule.keepRatio(0.3).pinningPrefix(1), SelectionRule.keepRatio(0.7),
            SelectionRule.threshold(0.5f).pinningPrefix(2), SelectionRule.keepRatio(0.5).pinningPrefix(1).inWindows(96, 7, 7)};
        try (Backend cpu = new ReferenceBackendProvider().open(0)) {
            for (SelectionRule rule : rules) {
                assertArrayEquals(select(cpu, lengths, rows, scores, rule), select(backend, lengths, rows, scores, rule),
                        rule.toString());
            }
        }
    }

    private static int[] select(Backend on, int[] lengths, int rows, float[] scores, SelectionRule rule) {
        int[] offsets = offsets(lengths);
        DeviceArray offsetArray = HostData.upload(on, Shape.of(offsets.length), offsets);
        DeviceArray scoreArray = HostData.upload(on, DType.F32, Shape.of(rows), scores);
        SequenceBatch batch = new SequenceBatch(offsetArray, rows, 70_000);
        try (TokenSelection selection = TokenSelection.allocate(on, batch, rule, false)) {
            on.ops().attention().selectTokens(scoreArray, batch, null, rule, selection);
            selection.verify(on);
            int[] kept = HostData.downloadInts(on, selection.keptIndex());
            int[] slots = HostData.downloadInts(on, selection.slotOf());
            int[] keptOffsets = HostData.downloadInts(on, selection.keptOffsets());
            int[] all = java.util.Arrays.copyOf(kept, kept.length + slots.length + keptOffsets.length);
            System.arraycopy(slots, 0, all, kept.length, slots.length);
            System.arraycopy(keptOffsets, 0, all, kept.length + slots.length, keptOffsets.length);
            return all;
        } finally {
            offsetArray.buffer().close();
            scoreArray.buffer().close();
        }
    }
}

package org.lacuna.runtime.internal.cuda;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.AttentionOps;
import org.lacuna.runtime.testing.EmulationFixture;

/**
 * Attention cases for the emulated {@code flash_attention.cu}, {@code key_attention.cu}, {@code token_select.cu} and
 * {@code gather_scatter.cu}, everything computed by the {@code cpu-reference} backend through the attention
 * contracts, and the launch geometry from {@link AttentionTiling} and {@link CudaAttentionOps}'s own rules:
 * <ul>
 *   <li>{@code attn_*}: per input type, head dim (32, 64, 128) and causality, QKV packed (as {@code
 *       MultiHeadAttention} launches it) and separate, ragged batches with empty sequences and rows after the last
 *       one. The full batch's output, log-sum-exp and key scores (cls when not causal, mean when causal: the pairs the
 *       emulator builds); then the token-dropping path a {@code TransformerEncoderLayer} runs: a {@link
 *       TokenSelection} by those scores, Q, K and V gathered through it, and the kept batch's attention and scores
 *       over the selection's capacity rows (padding included); each pass also as the launches {@link
 *       AttentionLaunches} makes (what {@link CudaAttentionOps} runs), recorded;</li>
 *   <li>{@code select_*}: selections by ratio, threshold, pinned prefix, pin mask and windows over ragged batches
 *       (ties, empty sequences), then rows gathered through the selection and scattered back (with and without
 *       pass-through) in row widths that take each copy unit {@link CudaAttentionOps#unit} picks (16, 8, 4, 2).</li>
 * </ul>
 */
public final class AttentionFixtures {
    private AttentionFixtures() {
    }

    /** Writes the cases; returns how many each emulated build must run, keyed by the fixture's match keys. */
    public static Map<String, Integer> write(Path root) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        try (Backend reference = new ReferenceBackendProvider().open(0)) {
            Random random = new Random(53);
            int index = 0;
            for (DType dtype : List.of(DType.F16, DType.BF16)) {
                for (int headDim : new int[] {32, 64, 128}) {
                    for (boolean causal : new boolean[] {false, true}) {
                        String key = "attn " + dtype.kernelName() + " " + headDim + " " + (causal ? 1 : 0);
                        writeAttention(root.resolve(String.format("attn_%02d", index++)), reference, random, dtype,
                                headDim, causal, true, new int[] {5, 0, 130}, 2, 3);
                        writeAttention(root.resolve(String.format("attn_%02d", index++)), reference, random, dtype,
                                headDim, causal, false, new int[] {64, 129, 1}, 1, 2);
                        counts.merge(key, 2, Integer::sum);
                    }
                }
            }
            index = 0;
            int[][] batches = {{1}, {7}, {0, 3, 0}, {300, 1, 2, 129}, {64, 64, 64, 64, 65}, {2000}};
            List<SelectionRule> rules = List.of(SelectionRule.keepRatio(0.7).pinningPrefix(1),
                    SelectionRule.keepRatio(0.3), SelectionRule.keepRatio(1e-6).pinningPrefix(2),
                    SelectionRule.keepRatio(0.5).pinningPrefix(1).inWindows(5, 2, 2),
                    SelectionRule.threshold(0.1f).pinningPrefix(1), SelectionRule.threshold(-0.5f).inWindows(7, 1, 3));
            // Row layouts (dtype, width) whose byte widths take copy units 16, 8, 4 and 2.
            Object[][] layouts = {{DType.F16, 24}, {DType.BF16, 4}, {DType.F32, 1}, {DType.F16, 3}};
            for (int[] lengths : batches) {
                for (int r = 0; r < rules.size(); r++) {
                    Object[] layout = layouts[index % layouts.length];
                    int unit = writeSelection(root.resolve(String.format("select_%02d", index)), reference, random,
                            lengths, rules.get(r), r % 2 == 1, index % 3 == 0 ? 0 : 2, (DType) layout[0],
                            (int) layout[1]);
                    counts.merge("select " + unit, 1, Integer::sum);
                    index++;
                }
            }
        }
        return counts;
    }

    private static void writeAttention(Path dir, Backend reference, Random random, DType dtype, int headDim,
                                       boolean causal, boolean packed, int[] lengths, int heads, int tail) {
        AttentionOps ops = reference.ops().attention();
        AttentionOptions options = new AttentionOptions(heads, headDim, causal,
                1.0 / Math.sqrt(headDim) * (random.nextBoolean() ? 1.0 : 1.7));
        KeyScore mode = causal ? KeyScore.MEAN_RECEIVED : KeyScore.CLS;
        int width = options.width();
        int[] cu = offsets(lengths);
        int rows = cu[lengths.length] + tail;
        int maxLength = Arrays.stream(lengths).max().orElse(0);
        float scaleLog2 = (float) (options.scale() / Math.log(2.0));
        EmulationFixture fixture = new EmulationFixture(dir).meta("t_in", dtype.kernelName())
                .meta("head_dim", headDim).meta("causal", causal ? 1 : 0).meta("mode", mode.kernelName())
                .meta("heads", heads).meta("packed", packed ? 1 : 0).meta("scale_log2", (double) scaleLog2)
                .meta("flash_threads", AttentionTiling.FLASH_THREADS).meta("key_threads", AttentionTiling.KEY_THREADS)
                .meta("flash_shared", AttentionTiling.flashSharedBytes(headDim))
                .meta("key_shared", AttentionTiling.keySharedBytes(headDim, mode == KeyScore.CLS));
        try (Closer closer = new Closer("AttentionFixtures")) {
            DeviceArray[] qkv = new DeviceArray[packed ? 1 : 3];
            for (int i = 0; i < qkv.length; i++) {
                float[] values = new float[rows * width * (packed ? 3 : 1)];
                for (int j = 0; j < values.length; j++) {
                    values[j] = HalfFloats.roundTo(dtype, (float) (random.nextDouble() * 3 - 1.5));
                }
                qkv[i] = upload(closer, reference, dtype, Shape.of(rows, values.length / rows), values);
            }
            SequenceBatch batch = new SequenceBatch(upload(closer, reference, cu), rows, maxLength);
            DeviceArray scoreArray = stage(fixture, "", reference, closer, qkv, batch, options, mode, dtype);
            // The token-dropping path: select by the scores just computed, gather Q, K and V, attend over the kept.
            SelectionRule rule = SelectionRule.keepRatio(0.5).pinningPrefix(1);
            TokenSelection selection = TokenSelection.allocate(reference, batch, rule, false);
            closer.register(selection);
            ops.selectTokens(scoreArray, batch, null, rule, selection);
            DeviceArray[] kept = new DeviceArray[qkv.length];
            for (int i = 0; i < qkv.length; i++) {
                kept[i] = poisoned(closer, reference, dtype, Shape.of(selection.capacity(), qkv[i].shape().dim(1)));
                ops.gatherRows(qkv[i], selection, kept[i]);
            }
            stage(fixture, "kept_", reference, closer, kept, selection.keptBatch(), options, mode, dtype);
        }
        fixture.finish();
    }

    /**
     * One attention pass and its key scores, inputs and the reference's results written under {@code prefix}; returns
     * the scores.
     */
    private static DeviceArray stage(EmulationFixture fixture, String prefix, Backend reference, Closer closer,
                              DeviceArray[] qkv, SequenceBatch batch, AttentionOptions options, KeyScore mode,
                              DType dtype) {
        AttentionOps ops = reference.ops().attention();
        long rows = batch.rows();
        AttentionInputs inputs = qkv.length == 1 ? new AttentionInputs.Packed(qkv[0])
                : new AttentionInputs.Separate(qkv[0], qkv[1], qkv[2]);
        DeviceArray out = poisoned(closer, reference, dtype, Shape.of(rows, options.width()));
        DeviceArray lse = poisoned(closer, reference, DType.F32, Shape.of(options.heads(), rows));
        DeviceArray scores = poisoned(closer, reference, DType.F32, Shape.of(rows));
        ops.attention(inputs, batch, options, out, lse);
        ops.keyAttention(inputs, batch, options, lse, mode, scores);
        fixture.meta(prefix + "rows", rows).meta(prefix + "batch", batch.batch())
                .meta(prefix + "flash_tiles", AttentionTiling.flashTiles(batch.maxLength()))
                .meta(prefix + "key_tiles", AttentionTiling.keyTiles(batch.maxLength()))
                .array(prefix + "cu", HostData.downloadInts(reference, batch.offsets()))
                .array(prefix + "out", bits(reference, out)).array(prefix + "lse", HostData.downloadFloats(reference, lse))
                .array(prefix + "scores", HostData.downloadFloats(reference, scores));
        String[] names = qkv.length == 1 ? new String[] {"qkv"} : new String[] {"q", "k", "v"};
        for (int i = 0; i < qkv.length; i++) {
            fixture.array(prefix + names[i], bits(reference, qkv[i]));
        }
        // The launches CudaAttentionOps makes for this pass (AttentionLaunches), recorded under PREFIXrec.: the
        // emulator runs them on the arrays above. The offsets get an array of their own (a kept batch's may be a view).
        LaunchRecorder recorder = new LaunchRecorder(fixture, prefix + "rec.");
        for (int i = 0; i < qkv.length; i++) {
            recorder.name(qkv[i], prefix + names[i]);
        }
        SequenceBatch recorded = new SequenceBatch(upload(closer, reference, HostData.downloadInts(reference,
                batch.offsets())), rows, batch.maxLength());
        DeviceArray recordedOut = poisoned(closer, reference, dtype, Shape.of(rows, options.width()));
        DeviceArray recordedLse = poisoned(closer, reference, DType.F32, Shape.of(options.heads(), rows));
        DeviceArray recordedScores = poisoned(closer, reference, DType.F32, Shape.of(rows));
        recorder.name(recorded.offsets(), prefix + "cu").name(recordedOut, prefix + "rec.out")
                .name(recordedLse, prefix + "rec.lse").name(recordedScores, prefix + "rec.scores");
        AttentionLaunches.Operands operands = AttentionLaunches.Operands.of(inputs, options);
        recorder.write(List.of(AttentionLaunches.flash(recorder, operands, recorded, options, recordedOut, recordedLse),
                AttentionLaunches.keys(recorder, operands, recorded, options, recordedLse, mode, recordedScores)));
        return scores;
    }

    /**
     * A selection case: scores with ties, the reference's selection, then rows of {@code width} {@code dtype}
     * values gathered through it and scattered back. Returns the copy unit the CUDA backend would use.
     */
    private static int writeSelection(Path dir, Backend reference, Random random, int[] lengths, SelectionRule rule,
                                      boolean withMask, int tail, DType dtype, int width) {
        AttentionOps ops = reference.ops().attention();
        int[] cu = offsets(lengths);
        int rows = cu[lengths.length] + tail;
        int maxLength = Arrays.stream(lengths).max().orElse(0);
        float[] scores = new float[rows];
        int[] mask = new int[rows];
        for (int i = 0; i < rows; i++) {
            // Plenty of ties.
            scores[i] = random.nextDouble() < 0.3 ? random.nextInt(5) - 2 : (float) (random.nextDouble() * 6 - 3);
            mask[i] = random.nextDouble() < 0.05 ? 1 : 0;
        }
        long rowBytes = (long) width * dtype.byteSize();
        int unit = CudaAttentionOps.unit(rowBytes);
        long units = rowBytes / unit;
        EmulationFixture fixture = new EmulationFixture(dir);
        try (Closer closer = new Closer("AttentionFixtures")) {
            SequenceBatch batch = new SequenceBatch(upload(closer, reference, cu), rows, maxLength);
            TokenSelection selection = TokenSelection.allocate(reference, batch, rule, withMask);
            closer.register(selection);
            ops.selectTokens(upload(closer, reference, DType.F32, Shape.of(rows), scores), batch,
                    withMask ? upload(closer, reference, mask) : null, rule, selection);
            long capacity = selection.capacity();
            int[] window = switch (rule.granularity()) {
                case org.lacuna.runtime.attention.Granularity.Tokens ignored -> new int[] {0, 0, 0};
                case org.lacuna.runtime.attention.Granularity.Windows g ->
                        new int[] {g.gridWidth(), g.height(), g.width()};
            };
            boolean threshold = rule.budget() instanceof SelectionRule.Threshold;
            fixture.meta("rows", rows).meta("batch", lengths.length).meta("capacity", capacity)
                    .meta("mode", threshold ? 1 : 0)
                    .meta("ratio", threshold ? 0.0 : ((SelectionRule.KeepRatio) rule.budget()).ratio())
                    .meta("threshold", threshold ? (double) ((SelectionRule.Threshold) rule.budget()).threshold() : 0.0)
                    .meta("prefix", rule.pinnedPrefix()).meta("grid_width", window[0]).meta("window_height", window[1])
                    .meta("window_width", window[2]).meta("with_mask", withMask ? 1 : 0)
                    .meta("select_threads", AttentionTiling.SELECT_THREADS)
                    .meta("row_threads", AttentionTiling.ROW_THREADS)
                    .meta("unit", unit).meta("units", units).meta("lanes_log2", CudaAttentionOps.lanesLog2(units))
                    .array("cu", cu).array("scores", scores).array("mask", mask)
                    .array("kept_index", HostData.downloadInts(reference, selection.keptIndex()))
                    .array("slot_of", HostData.downloadInts(reference, selection.slotOf()))
                    .array("kept_counts", HostData.downloadInts(reference, selection.keptCounts()))
                    .array("kept_offsets", HostData.downloadInts(reference, selection.keptOffsets()));
            // Rows of random values, gathered; the kept rows changed (so a pass-through mistake shows) and scattered
            // back over the originals, and alone (rows not kept become zero).
            float[] x = new float[rows * width];
            for (int i = 0; i < x.length; i++) {
                x[i] = HalfFloats.roundTo(dtype, (float) (random.nextDouble() * 200 - 100));
            }
            DeviceArray xs = upload(closer, reference, dtype, Shape.of(rows, width), x);
            DeviceArray gathered = poisoned(closer, reference, dtype, Shape.of(capacity, width));
            ops.gatherRows(xs, selection, gathered);
            float[] changed = HostData.downloadFloats(reference, gathered);
            for (int i = 0; i < changed.length; i++) {
                changed[i] = HalfFloats.roundTo(dtype, changed[i] * -0.5f + 1);
            }
            DeviceArray keptRows = upload(closer, reference, dtype, Shape.of(capacity, width), changed);
            DeviceArray over = poisoned(closer, reference, dtype, Shape.of(rows, width));
            ops.scatterRows(keptRows, selection, xs, over);
            DeviceArray alone = poisoned(closer, reference, dtype, Shape.of(rows, width));
            ops.scatterRows(keptRows, selection, null, alone);
            fixture.meta("dtype", dtype.kernelName()).meta("width", width)
                    .array("x", bits(reference, xs)).array("gathered", bits(reference, gathered))
                    .array("kept_rows", bits(reference, keptRows)).array("scattered_over", bits(reference, over))
                    .array("scattered_alone", bits(reference, alone));
        }
        fixture.finish();
        return unit;
    }

    private static int[] offsets(int[] lengths) {
        int[] cu = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) {
            cu[b + 1] = cu[b] + lengths[b];
        }
        return cu;
    }

    /** An array's bytes as the device holds them, as 16-bit words (F32 as two words each). */
    private static short[] bits(Backend backend, DeviceArray array) {
        var host = java.nio.ByteBuffer.allocate(Math.toIntExact(array.byteSize())).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        backend.download(array.buffer(), array.byteOffset(), java.lang.foreign.MemorySegment.ofBuffer(host),
                array.byteSize());
        short[] out = new short[host.capacity() / 2];
        host.asShortBuffer().get(out);
        return out;
    }

    private static DeviceArray upload(Closer closer, Backend backend, DType dtype, Shape shape, float[] values) {
        DeviceArray array = HostData.upload(backend, dtype, shape, values);
        closer.register(array.buffer());
        return array;
    }

    private static DeviceArray upload(Closer closer, Backend backend, int[] values) {
        DeviceArray array = HostData.upload(backend, Shape.of(values.length), values);
        closer.register(array.buffer());
        return array;
    }

    /** Every byte 0xFF (NaN, or -1): an element the reference forgot to write shows. */
    private static DeviceArray poisoned(Closer closer, Backend backend, DType dtype, Shape shape) {
        DeviceArray array = new DeviceArray(closer.register(backend.allocate(Math.max(1,
                shape.elementCount() * dtype.byteSize()))), 0, dtype, shape);
        backend.fill(array.buffer(), 0, array.byteSize(), (byte) 0xFF);
        return array;
    }
}

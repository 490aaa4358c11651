package org.lacuna.bench.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.AttentionOps;
import org.lacuna.runtime.ops.RowReduction;

/**
 * Token-dropping attention ({@link AttentionSweep}'s cases): per case
 * <ul>
 *   <li>{@code dense}: flash attention over every token (PyTorch's SDPA flash backend on the same problem is its
 *       anchor, merged in by {@link AttentionAnchors}; target: at least 0.8x its throughput);</li>
 *   <li>{@code kept-R}: the same kernel over the tokens a keep ratio R leaves (CLS pinned), anchored on {@code dense}:
 *       the target is a time of at most 1.25·R² of dense, i.e. a speed-up of at least 1/(1.25·R²)
 *       ({@code targetSpeedup});</li>
 *   <li>{@code overhead-R}: everything token dropping adds — L2 scores, top-k selection and compaction, gathering Q, K,
 *       V, scattering the output back with pass-through — anchored on {@code dense}: target at most 5% of it;</li>
 *   <li>{@code cls-scores}: the CLS-attention side output for the next layer's scoring, anchored on {@code dense}.</li>
 * </ul>
 * FLOPs are the attention's own (4·B·H·S²·D at S tokens a sequence); overhead rows count bytes only.
 */
public final class AttentionBenchmark extends CaseSweepBenchmark<AttentionSweep.AttentionCase> {
    static final String NAME = "attention";

    private final List<AttentionSweep.AttentionCase> cases;

    public AttentionBenchmark() {
        this(null);
    }

    /** @param cases the cases to run; null: the configured selection ({@link AttentionSweep#configuredSelection}) */
    AttentionBenchmark(List<AttentionSweep.AttentionCase> cases) {
        super(NAME);
        this.cases = cases;
    }

    @Override
    public List<BenchResult> run(BenchContext context) {
        String chosen = this.cases != null ? "given" : AttentionSweep.configuredSelection();
        List<AttentionSweep.AttentionCase> cases = this.cases != null ? this.cases : AttentionSweep.select(chosen);
        return runEach(cases, chosen, "", c -> new CaseRun(context, c).run());
    }

    @Override
    String id(AttentionSweep.AttentionCase c) {
        return c.id();
    }

    /** One case: its host data, its batch on the device, and the measurements. */
    private static final class CaseRun {
        private final BenchContext context;
        private final AttentionSweep.AttentionCase c;
        private final Backend backend;
        private final AttentionOps ops;
        private final AttentionOptions options;
        private final long rows;
        private final int width;

        CaseRun(BenchContext context, AttentionSweep.AttentionCase c) {
            this.context = context;
            this.c = c;
            this.backend = context.backend();
            this.ops = backend.ops().attention();
            this.options = AttentionOptions.of(c.heads(), c.headDim());
            this.rows = c.tokens();
            this.width = c.width();
        }

        List<BenchResult> run() {
            int[] offsets = new int[c.batch() + 1];
            for (int b = 0; b < c.batch(); b++) {
                offsets[b + 1] = offsets[b] + c.sequenceLength();
            }
            DeviceArray offsetArray = HostData.upload(backend, Shape.of(offsets.length), offsets);
            try (Arena arena = Arena.ofConfined()) {
                SequenceBatch batch = new SequenceBatch(offsetArray, rows, c.sequenceLength());
                MemorySegment qkv = halves(arena, rows * 3 * width, 7 + c.headDim(), c.dtype());
                MemorySegment x = halves(arena, rows * width, 11 + c.sequenceLength(), c.dtype());
                List<BenchResult> results = new ArrayList<>();
                BenchResult dense = dense(batch, qkv);
                results.add(dense);
                for (double ratio : AttentionSweep.KEEP_RATIOS) {
                    SelectionRule rule = SelectionRule.keepRatio(ratio).pinningPrefix(1);
                    results.add(kept(batch, qkv, x, rule, ratio).withAnchor(dense));
                    results.add(overhead(batch, qkv, x, rule, ratio).withAnchor(dense));
                }
                results.add(clsScores(batch, qkv).withAnchor(dense));
                return results;
            } finally {
                offsetArray.buffer().close();
            }
        }

        private BenchContext.Case describe(String name) {
            BenchContext.Case target = context.measure(name);
            c.params().forEach(target::param);
            return target;
        }

        private BenchResult dense(SequenceBatch batch, MemorySegment qkv) {
            try (RotatingArrays inputs = context.allocateRotating(List.of(ArraySpec.of(c.dtype(), rows, 3L * width),
                    ArraySpec.of(c.dtype(), rows, width)))) {
                inputs.uploadToEveryCopy(qkv, null);
                ops.attention(AttentionInputs.packed(inputs.array(0, 0)), batch, options, inputs.array(0, 1), null);
                String check = check(qkv, inputs.array(0, 1));
                return describe("dense").param("keepRatio", 1.0).param("keptPerSequence", c.sequenceLength())
                        .param("outputCheck", check)
                        .work(Work.of(c.flops(c.sequenceLength()), rows * 4L * width * 2))
                        .rotation(inputs)
                        .measure(i -> ops.attention(AttentionInputs.packed(inputs.array(i, 0)), batch, options,
                                inputs.array(i, 1), null));
            }
        }

        /** The same attention over the kept tokens, gathered once per input copy before timing. */
        private BenchResult kept(SequenceBatch batch, MemorySegment qkv, MemorySegment x, SelectionRule rule,
                                 double ratio) {
            int keptPerSequence = (int) rule.maxKept(c.sequenceLength(), false);
            try (TokenSelection selection = select(batch, x, rule);
                 RotatingArrays inputs = context.allocateRotating(List.of(
                         ArraySpec.of(c.dtype(), selection.capacity(), 3L * width),
                         ArraySpec.of(c.dtype(), selection.capacity(), width)))) {
                DeviceArray all = HostData.uploadBytes(backend, c.dtype(), Shape.of(rows, 3L * width), qkv);
                try {
                    for (int copy = 0; copy < inputs.rotation().copies(); copy++) {
                        ops.gatherRows(all, selection, inputs.array(copy, 0));
                    }
                    backend.synchronize();
                } finally {
                    all.buffer().close();
                }
                SequenceBatch keptBatch = selection.keptBatch();
                return describe("kept-" + ratio).param("keepRatio", ratio).param("keptPerSequence", keptPerSequence)
                        .param("targetSpeedup", 1 / (1.25 * ratio * ratio))
                        .work(Work.of(c.flops(keptPerSequence), (long) keptPerSequence * c.batch() * 4L * width * 2))
                        .rotation(inputs)
                        .measure(i -> ops.attention(AttentionInputs.packed(inputs.array(i, 0)), keptBatch, options,
                                inputs.array(i, 1), null));
            }
        }

        /** Scores, selection, gather and scatter: what dropping tokens costs on top of the attention. */
        private BenchResult overhead(SequenceBatch batch, MemorySegment qkv, MemorySegment x, SelectionRule rule,
                                     double ratio) {
            long capacity = rule.capacity(rows, c.batch(), c.sequenceLength(), false);
            try (RotatingArrays inputs = context.allocateRotating(List.of(ArraySpec.of(c.dtype(), rows, width),
                    ArraySpec.of(c.dtype(), rows, 3L * width), ArraySpec.of(DType.F32, rows),
                    ArraySpec.of(c.dtype(), capacity, 3L * width), ArraySpec.of(c.dtype(), capacity, width),
                    ArraySpec.of(c.dtype(), rows, width)))) {
                inputs.uploadToEveryCopy(x, qkv, null, null, null, null);
                TokenSelection[] selections = new TokenSelection[inputs.rotation().copies()];
                try {
                    for (int copy = 0; copy < selections.length; copy++) {
                        selections[copy] = TokenSelection.allocate(backend, batch, rule, false);
                    }
                    long bytes = rows * width * 2L + rows * 4L * 3 + capacity * 3L * width * 2 * 2
                            + rows * width * 2L * 2 + capacity * width * 2L;
                    return describe("overhead-" + ratio).param("keepRatio", ratio).param("capacity", capacity)
                            .param("targetMaxShareOfDense", 0.05)
                            .param("steps", "rowReduce L2 + selectTokens + gatherRows(qkv) + scatterRows(out, pass x)")
                            .work(Work.bytesOnly(bytes))
                            .rotation(inputs)
                            .measure(i -> {
                                int copy = inputs.rotation().copyFor(i);
                                TokenSelection selection = selections[copy];
                                backend.ops().elementwise().rowReduce(inputs.array(i, 0), RowReduction.L2, inputs.array(i, 2));
                                ops.selectTokens(inputs.array(i, 2), batch, null, rule, selection);
                                ops.gatherRows(inputs.array(i, 1), selection, inputs.array(i, 3));
                                ops.scatterRows(inputs.array(i, 4), selection, inputs.array(i, 0), inputs.array(i, 5));
                            });
                } finally {
                    for (TokenSelection s : selections) {
                        if (s != null) {
                            s.close();
                        }
                    }
                }
            }
        }

        private BenchResult clsScores(SequenceBatch batch, MemorySegment qkv) {
            try (RotatingArrays inputs = context.allocateRotating(List.of(ArraySpec.of(c.dtype(), rows, 3L * width),
                    ArraySpec.of(DType.F32, c.heads(), rows), ArraySpec.of(DType.F32, rows),
                    ArraySpec.of(c.dtype(), rows, width)))) {
                inputs.uploadToEveryCopy(qkv, null, null, null);
                for (int copy = 0; copy < inputs.rotation().copies(); copy++) {
                    ops.attention(AttentionInputs.packed(inputs.array(copy, 0)), batch, options, inputs.array(copy, 3),
                            inputs.array(copy, 1));
                }
                backend.synchronize();
                return describe("cls-scores").param("score", KeyScore.CLS.name())
                        .work(Work.of(4L * c.batch() * c.heads() * c.headDim() * 16 * c.sequenceLength(),
                                rows * 3L * width * 2 / 3 + 4L * c.heads() * rows + 4L * rows))
                        .rotation(inputs)
                        .measure(i -> ops.keyAttention(AttentionInputs.packed(inputs.array(i, 0)), batch, options,
                                inputs.array(i, 1), KeyScore.CLS, inputs.array(i, 2)));
            }
        }

        /** A selection by the rows' L2 norms, computed once, for the kept-token measurements. */
        private TokenSelection select(SequenceBatch batch, MemorySegment x, SelectionRule rule) {
            TokenSelection selection = TokenSelection.allocate(backend, batch, rule, false);
            DeviceArray xs = HostData.uploadBytes(backend, c.dtype(), Shape.of(rows, width), x);
            DeviceArray scores = new DeviceArray(backend.allocate(rows * 4), 0, DType.F32, Shape.of(rows));
            try {
                backend.ops().elementwise().rowReduce(xs, RowReduction.L2, scores);
                ops.selectTokens(scores, batch, null, rule, selection);
                selection.verify(backend);
                return selection;
            } catch (RuntimeException e) {
                selection.close();
                throw e;
            } finally {
                xs.buffer().close();
                scores.buffer().close();
            }
        }

        /** Rows 0, 1 and the last of sequence 0, head 0, against a double-precision softmax on the host. */
        private String check(MemorySegment qkv, DeviceArray out) {
            int d = c.headDim();
            int s = c.sequenceLength();
            float[] got = HostData.downloadFloats(backend, new DeviceArray(out.buffer(), out.byteOffset(), c.dtype(),
                    Shape.of(s, width)));
            double worst = 0;
            for (int i : new int[] {0, 1, s - 1}) {
                double[] logits = new double[s];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < s; j++) {
                    double dot = 0;
                    for (int e = 0; e < d; e++) {
                        dot += value(qkv, (long) i * 3 * width + e) * value(qkv, (long) j * 3 * width + width + e);
                    }
                    logits[j] = dot * options.scale();
                    max = Math.max(max, logits[j]);
                }
                double sum = 0;
                for (int j = 0; j < s; j++) {
                    sum += Math.exp(logits[j] - max);
                }
                for (int e = 0; e < d; e++) {
                    double o = 0;
                    for (int j = 0; j < s; j++) {
                        o += Math.exp(logits[j] - max) / sum * value(qkv, (long) j * 3 * width + 2L * width + e);
                    }
                    worst = Math.max(worst, Math.abs(o - got[i * width + e]));
                }
            }
            return worst <= 4e-3 ? "ok" : String.format(Locale.ROOT, "max error %.3g", worst);
        }

        private float value(MemorySegment halves, long index) {
            short bits = halves.getAtIndex(ValueLayout.JAVA_SHORT, index);
            return c.dtype() == DType.BF16 ? HalfFloats.fromBf16(bits) : HalfFloats.fromF16(bits);
        }
    }

    /** Values in [-1, 1): never all zero, seeded so a rerun times the same data. */
    static MemorySegment halves(Arena arena, long count, long seed, DType dtype) {
        SplittableRandom random = new SplittableRandom(seed);
        MemorySegment segment = arena.allocate(count * 2, 64);
        for (long i = 0; i < count; i++) {
            float v = (float) random.nextDouble(-1, 1);
            segment.setAtIndex(ValueLayout.JAVA_SHORT, i, dtype == DType.BF16 ? HalfFloats.toBf16(v) : HalfFloats.toF16(v));
        }
        return segment;
    }

    @Override
    String summary(AttentionSweep.AttentionCase c, List<BenchResult> measured) {
        StringBuilder line = new StringBuilder(c.id()).append(':');
        for (BenchResult r : measured) {
            line.append(String.format(Locale.ROOT, " %s %.3f ms", r.name(), r.medianMs()));
            if (r.flops() > 0 && !r.name().startsWith("overhead")) {
                line.append(String.format(Locale.ROOT, " %.0f TFLOP/s", r.achievedTflops()));
            }
            if (r.anchor() != null) {
                line.append(String.format(Locale.ROOT, " (%.3fx dense)", 1 / r.anchor().speedup()));
            }
            Object check = r.params().get("outputCheck");
            if (check != null && !"ok".equals(check)) {
                line.append(" [").append(check).append(']');
            }
            line.append(';');
        }
        return line.toString();
    }
}

package org.lacuna.bench.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.layers.Linear;
import org.lacuna.api.layers.Sequences;
import org.lacuna.api.layers.TransformerEncoder;
import org.lacuna.api.layers.TransformerEncoderLayer;
import org.lacuna.bench.gpu.SparseConvNetwork;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.gemm.CsrMatrix;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.gemm.TwoFourWeights;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.AttentionOps;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.schedule.Scheduler;
import org.lacuna.runtime.sparseconv.Dataflow;

/**
 * Lacuna's side of every CPU case, on the serving {@code cpu} backend of one session: each measurement allocates its
 * operands once (seeded random values in [-1, 1), never trivially zero), checks one result where a check is cheap,
 * then times the op warm with {@link Timing#measure}. Inputs are not rotated: on the CPU the peers are timed warm as
 * well, and every operand here fits the L2 or streams from DRAM alike on both sides.
 */
final class LacunaCpuCases {
    static final String SOURCE = "lacuna";

    private final Session session;
    private final Backend backend;
    private final OpSet ops;
    private final MeasurementPlan plan;

    LacunaCpuCases(Session session, MeasurementPlan plan) {
        this.session = session;
        this.backend = session.backend();
        this.ops = backend.ops();
        this.plan = plan;
    }

    /** A seeded matrix with values in [-1, 1). */
    static float[] uniform(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[count];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextDouble(-1, 1);
        }
        return v;
    }

    private DeviceArray upload(DType dtype, float[] values, long... dims) {
        return HostData.upload(backend, dtype, Shape.of(dims), values);
    }

    /** An uninitialised F16 [rows, cols] array; free it with {@link #free}. */
    private DeviceArray f16Matrix(long rows, long cols) {
        long bytes = rows * cols * DType.F16.byteSize();
        return new DeviceArray(backend.allocate(bytes), 0, DType.F16, Shape.of(rows, cols));
    }

    private static void free(DeviceArray... arrays) {
        for (DeviceArray a : arrays) {
            if (a != null) {
                a.buffer().close();
            }
        }
    }

    /**
     * Times a case's launch once its operands exist and are checked: {@link Timing#measure} at the runner's plan
     * ({@link #atPlan}), or every round of {@link AnchoredRounds} on the same operands, as PyTorch's side keeps its
     * tensors from round to round.
     */
    @FunctionalInterface
    interface LaunchTimer {
        Timing time(String name, String what, LongConsumer launch);
    }

    private LaunchTimer atPlan() {
        return (name, what, launch) -> Timing.measure(name, SOURCE, what, plan, launch);
    }

    /** A case of a family PyTorch's cpu_anchor.py times beside it (dense linear, attention, tiny op), at the plan. */
    Timing anchored(CpuCase c) {
        return anchored(c, atPlan());
    }

    /** The same, timed by {@code timer}; a case Lacuna refuses is a failed timing and never reaches the timer. */
    Timing anchored(CpuCase c, LaunchTimer timer) {
        return switch (c.family()) {
            case DENSE_LINEAR -> denseLinear(c, timer);
            case ATTENTION -> attention(c, timer);
            case TINY_OP -> tinyOp(c, timer);
            default -> throw new IllegalArgumentException(c.id() + ": no PyTorch anchor for " + c.family());
        };
    }

    /** linearDense fp32 into a preallocated output, as torch.mm(x, w.t(), out=y). */
    private Timing denseLinear(CpuCase c, LaunchTimer timer) {
        int t = c.intParam("tokens");
        int in = c.intParam("in");
        int out = c.intParam("out");
        float[] xs = uniform(t * in, 1);
        float[] ws = uniform(out * in, 2);
        DeviceArray x = upload(DType.F32, xs, t, in);
        DeviceArray w = upload(DType.F32, ws, out, in);
        DeviceArray y = upload(DType.F32, new float[t * out], t, out);
        try {
            ops.gemm().linearDense(x, w, null, Activation.NONE, y);
            double error = relativeError(HostData.downloadFloats(backend, y), xs, ws, t, in, out);
            return timer.time("lacuna-dense", "ops.linearDense, f32",
                    i -> ops.gemm().linearDense(x, w, null, Activation.NONE, y)).withRelativeError(error);
        } finally {
            free(x, w, y);
        }
    }

    /**
     * 2:4 against dense on the same magnitude-pruned weight, both with f16 storage (the 2:4 format stores f16 or
     * bf16; the dense f16 path is the one it replaces). Returns {2:4, dense}.
     */
    Timing[] twoFourAndDense(CpuCase c) {
        int t = c.intParam("tokens");
        int in = c.intParam("in");
        int out = c.intParam("out");
        float[] pruned = TwoFourPruning.prune(uniform(out * in, 3), out, in);
        DeviceArray x = upload(DType.F16, uniform(t * in, 4), t, in);
        DeviceArray dense = DeviceWeights.uploadDense(backend, pruned, out, in, DType.F16);
        DeviceArray y = upload(DType.F32, new float[t * out], t, out);
        TwoFourWeight compressed = DeviceWeights.upload(backend, TwoFourWeights.compress(pruned, out, in, DType.F16));
        try {
            return Timing.measureAlternating(
                    new Timing.Side("lacuna-twofour", SOURCE, "ops.linearTwoFour, f16 storage",
                            i -> ops.gemm().linearTwoFour(x, compressed, null, Activation.NONE, y)),
                    new Timing.Side("lacuna-dense-f16", SOURCE,
                            "ops.linearDense on the same pruned weight, f16 storage, timed in turn with 2:4",
                            i -> ops.gemm().linearDense(x, dense, null, Activation.NONE, y)),
                    plan);
        } finally {
            DeviceWeights.release(compressed);
            free(x, dense, y);
        }
    }

    /**
     * CSR at the case's density (a random mask, the kept values uniform), fp32, timed in turn with the dense fp32
     * linear of the same shape (its own weight), the anchor of the CSR target. Returns {CSR, dense}.
     */
    Timing[] csrAndDense(CpuCase c) {
        int t = c.intParam("tokens");
        int in = c.intParam("in");
        int out = c.intParam("out");
        double density = c.doubleParam("density");
        float[] w = uniform(out * in, 5);
        SplittableRandom mask = new SplittableRandom(6);
        for (int i = 0; i < w.length; i++) {
            if (mask.nextDouble() >= density) {
                w[i] = 0;
            }
        }
        DeviceArray x = upload(DType.F32, uniform(t * in, 7), t, in);
        DeviceArray y = upload(DType.F32, new float[t * out], t, out);
        DeviceArray dense = upload(DType.F32, uniform(out * in, 2), out, in);
        CsrWeight csr = DeviceWeights.upload(backend, CsrMatrix.fromDense(w, out, in, DType.F32));
        try {
            return Timing.measureAlternating(
                    new Timing.Side("lacuna-csr", SOURCE, "ops.linearCsr, f32",
                            i -> ops.gemm().linearCsr(x, csr, null, Activation.NONE, y)),
                    new Timing.Side("lacuna-dense", SOURCE, "ops.linearDense, f32, timed in turn with CSR",
                            i -> ops.gemm().linearDense(x, dense, null, Activation.NONE, y)),
                    plan);
        } finally {
            DeviceWeights.release(csr);
            free(x, y, dense);
        }
    }

    /** The attention options of a case, or the backend's refusal (a head dim it does not take yet). */
    static AttentionOptions attentionOptions(CpuCase c) {
        return AttentionOptions.of(c.intParam("heads"), c.intParam("headDim"));
    }

    /** One measurement of an attention case, given its options and operands. */
    private interface AttentionMeasurement {
        Timing measure(AttentionOptions options, AttentionData data);
    }

    /** Measures an attention case on fresh operands, or records the backend's refusal of its options. */
    private Timing withAttentionData(CpuCase c, String id, String refusedOp, AttentionMeasurement measurement) {
        AttentionOptions options;
        try {
            options = attentionOptions(c);
        } catch (InvalidInputException e) {
            return Timing.failed(id, SOURCE, refusedOp, "not supported: " + e.getMessage());
        }
        try (AttentionData data = new AttentionData(c, options)) {
            return measurement.measure(options, data);
        }
    }

    /**
     * Dense attention over every token, Q/K/V packed [tokens, 3·width] as a fused QKV projection writes them, f16
     * storage (the attention ops take f16 or bf16).
     */
    private Timing attention(CpuCase c, LaunchTimer timer) {
        return withAttentionData(c, "lacuna-attention", "ops.attention", (options, data) -> {
            AttentionOps attention = ops.attention();
            return timer.time("lacuna-attention", "ops.attention, packed QKV, f16 storage",
                    i -> attention.attention(AttentionInputs.packed(data.qkv), data.batch, options, data.out, null));
        });
    }

    /**
     * The attention over the tokens the keep ratio leaves (selected by L2 norm, CLS pinned), gathered beforehand,
     * timed in turn, sample by sample, with the dense attention over every token of the same operands: its anchor, as
     * 2:4 and CSR are timed with theirs, so the machine's drift during the run lands on both sides. Returns {kept,
     * dense}.
     */
    Timing[] attentionKeptAndDense(CpuCase c) {
        AttentionOptions options;
        try {
            options = attentionOptions(c);
        } catch (InvalidInputException e) {
            String why = "not supported: " + e.getMessage();
            return new Timing[] {Timing.failed("lacuna-attention-kept", SOURCE, "ops.attention", why),
                    Timing.failed("lacuna-attention", SOURCE, "ops.attention", why)};
        }
        AttentionOps attention = ops.attention();
        try (AttentionData data = new AttentionData(c, options); KeptRows kept = new KeptRows(c, data)) {
            ops.elementwise().rowReduce(data.x, RowReduction.L2, data.scores);
            attention.selectTokens(data.scores, data.batch, null, kept.rule, kept.selection);
            attention.gatherRows(data.qkv, kept.selection, kept.qkv);
            SequenceBatch keptBatch = kept.selection.keptBatch();
            return Timing.measureAlternating(
                    new Timing.Side("lacuna-attention-kept", SOURCE, "ops.attention over the kept tokens",
                            i -> attention.attention(AttentionInputs.packed(kept.qkv), keptBatch, options, kept.out,
                                    null)),
                    new Timing.Side("lacuna-attention", SOURCE,
                            "ops.attention over every token, packed QKV, f16 storage, timed in turn with the kept",
                            i -> attention.attention(AttentionInputs.packed(data.qkv), data.batch, options, data.out,
                                    null)),
                    plan);
        }
    }

    /** Scores, selection, gather and scatter: what dropping tokens adds to the layer. */
    Timing droppingOverhead(CpuCase c) {
        return withAttentionData(c, "lacuna-dropping-overhead", "selection", (options, data) -> {
            AttentionOps attention = ops.attention();
            try (KeptRows kept = new KeptRows(c, data)) {
                return Timing.measure("lacuna-dropping-overhead", SOURCE,
                        "rowReduce L2 + selectTokens + gatherRows(qkv) + scatterRows(out, pass x)", plan, i -> {
                            ops.elementwise().rowReduce(data.x, RowReduction.L2, data.scores);
                            attention.selectTokens(data.scores, data.batch, null, kept.rule, kept.selection);
                            attention.gatherRows(data.qkv, kept.selection, kept.qkv);
                            attention.scatterRows(kept.out, kept.selection, data.x, data.out);
                        });
            }
        });
    }

    /**
     * A case's keep-ratio selection (CLS pinned) and the f16 rows of the tokens it keeps: their packed QKV and their
     * attention output.
     */
    private final class KeptRows implements AutoCloseable {
        final SelectionRule rule;
        final TokenSelection selection;
        DeviceArray qkv;
        DeviceArray out;

        KeptRows(CpuCase c, AttentionData data) {
            rule = SelectionRule.keepRatio(c.doubleParam("keepRatio")).pinningPrefix(1);
            selection = TokenSelection.allocate(backend, data.batch, rule, false);
            try {
                qkv = f16Matrix(selection.capacity(), 3L * data.width);
                out = f16Matrix(selection.capacity(), data.width);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        @Override
        public void close() {
            free(qkv, out);
            selection.close();
        }
    }

    /** One attention case's operands: offsets, packed QKV, a hidden state x, scores and the output. */
    private final class AttentionData implements AutoCloseable {
        final int width;
        final DeviceArray offsets;
        final SequenceBatch batch;
        final DeviceArray qkv;
        final DeviceArray x;
        final DeviceArray scores;
        final DeviceArray out;

        AttentionData(CpuCase c, AttentionOptions options) {
            int b = c.intParam("batch");
            int s = c.intParam("sequence");
            width = options.heads() * options.headDim();
            long rows = (long) b * s;
            int[] starts = new int[b + 1];
            for (int i = 0; i < b; i++) {
                starts[i + 1] = starts[i] + s;
            }
            offsets = HostData.upload(backend, Shape.of(b + 1), starts);
            batch = new SequenceBatch(offsets, rows, s);
            qkv = upload(DType.F16, uniform(Math.toIntExact(rows * 3 * width), 8), rows, 3L * width);
            x = upload(DType.F16, uniform(Math.toIntExact(rows * width), 9), rows, width);
            scores = upload(DType.F32, new float[Math.toIntExact(rows)], rows);
            out = upload(DType.F16, new float[Math.toIntExact(rows * width)], rows, width);
        }

        @Override
        public void close() {
            free(offsets, qkv, x, scores, out);
        }
    }

    /**
     * The MiniLM-shaped encoder through java-api's {@link TransformerEncoder} with random weights, f16 storage,
     * post-norm as BERT and all-MiniLM-L6-v2 (each residual add fused with the layer norm after it), a batch of
     * equal-length sequences; sentences/s is batch ÷ median time. Uses the case's head count (12 heads of
     * 32) when the backend takes head dim 32, else the same width in heads of 64 (same FLOPs), saying which.
     *
     * @return the timing and the heads × head dim it ran
     */
    EncoderRun encoder(CpuCase c, int wantedHeadDim) {
        int hidden = c.intParam("hidden");
        int layers = c.intParam("layers");
        int ffn = c.intParam("ffn");
        int sequence = c.intParam("sequence");
        int batch = c.intParam("batch");
        int heads = hidden / wantedHeadDim;
        String note = null;
        TransformerEncoderLayer.Config config;
        try {
            config = TransformerEncoderLayer.Config.of(hidden, heads, ffn, DType.F16).withPostNorm();
        } catch (InvalidInputException e) {
            int fallbackDim = 64;
            note = heads + " heads of " + wantedHeadDim + " not accepted yet (" + e.getMessage() + "): ran "
                    + hidden / fallbackDim + " heads of " + fallbackDim + " (same FLOPs)";
            heads = hidden / fallbackDim;
            config = TransformerEncoderLayer.Config.of(hidden, heads, ffn, DType.F16).withPostNorm();
        }
        List<TransformerEncoderLayer.Config> configs = new ArrayList<>();
        List<TransformerEncoderLayer.Weights> weights = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            configs.add(config);
            weights.add(TransformerEncoderLayer.Weights.random(config, 100 + l));
        }
        int[] lengths = new int[batch];
        java.util.Arrays.fill(lengths, sequence);
        try (TransformerEncoder encoder = TransformerEncoder.create(session, configs, weights);
             Sequences sequences = Sequences.of(session, lengths);
             Tensor x = session.fromFloats(uniform(batch * sequence * hidden, 10), DType.F16,
                     (long) batch * sequence, hidden)) {
            // Planned before it is timed: a layer deciding on its live calls serves a few forwards with slower
            // candidates, which would otherwise fill the warm-up (or, under a time-bound warm-up, the samples).
            session.scheduler().runUntilDecided(() -> {
                try (Tensor y = encoder.forward(x, sequences)) {
                    y.shape();
                }
            }, Scheduler.MAX_DECIDING_FORWARDS);
            Timing timing = Timing.measure("lacuna-encoder", SOURCE, "TransformerEncoder.forward, " + layers
                    + " layers, " + heads + " heads of " + hidden / heads + ", f16 storage, post-norm", plan, i -> {
                        try (Tensor y = encoder.forward(x, sequences)) {
                            y.shape();
                        }
                    });
            return new EncoderRun(timing, heads, hidden / heads, note);
        }
    }

    record EncoderRun(Timing timing, int heads, int headDim, String note) {
    }

    /**
     * MinkUNet's convolutions end to end on cached maps, fp32, each layer on its own input (as the anchor does):
     * the chain of {@code sparseConvolution} calls with each layer's chosen dataflow.
     */
    Timing minkunet(SparseConvNetwork network) {
        ConvolutionOps conv = ops.convolution();
        List<SparseConvNetwork.Layer> layers = network.layers();
        List<DeviceArray[]> buffers = new ArrayList<>();
        try {
            Dataflow[] chosen = new Dataflow[layers.size()];
            for (int l = 0; l < layers.size(); l++) {
                SparseConvNetwork.Layer layer = layers.get(l);
                int rows = layer.map().inputCount();
                buffers.add(new DeviceArray[] {
                        upload(DType.F32, uniform(Math.multiplyExact(rows, layer.in()), 1000L + l), rows, layer.in()),
                        upload(DType.F32, layer.weights(), layer.map().volume(), layer.in(), layer.out()),
                        upload(DType.F32, new float[Math.multiplyExact(layer.map().outputCount(), layer.out())],
                                layer.map().outputCount(), layer.out())});
                chosen[l] = Dataflow.choose(layer.map().statistics());
            }
            return Timing.measure("lacuna-minkunet", SOURCE, "ops.sparseConvolution per layer (chosen dataflow), f32",
                    plan, i -> {
                        for (int l = 0; l < layers.size(); l++) {
                            DeviceArray[] b = buffers.get(l);
                            conv.sparseConvolution(b[0], layers.get(l).map(), b[1], null, Activation.NONE, chosen[l],
                                    b[2]);
                        }
                    });
        } finally {
            buffers.forEach(LacunaCpuCases::free);
        }
    }

    /**
     * A tiny Linear through java-api as a user calls it: {@code forward} allocates the output tensor, the caller
     * closes it. What this times is the host overhead around a negligible amount of math.
     */
    private Timing tinyOp(CpuCase c, LaunchTimer timer) {
        int t = c.intParam("tokens");
        int in = c.intParam("in");
        int out = c.intParam("out");
        try (Linear linear = Linear.create(session, uniform(out * in, 11), out, in, null,
                Linear.Options.of(DType.F32));
             Tensor x = session.fromFloats(uniform(t * in, 12), DType.F32, t, in)) {
            return timer.time("lacuna-linear", "Linear.forward (new output tensor, closed), f32",
                    i -> {
                        try (Tensor y = linear.forward(x)) {
                            y.shape();
                        }
                    });
        }
    }

    /** Largest |got - want| over the largest |want|, on the first rows (a double-precision product). */
    static double relativeError(float[] got, float[] x, float[] w, int tokens, int in, int out) {
        double worst = 0;
        double scale = 1e-30;
        for (int r = 0; r < Math.min(tokens, 4); r++) {
            for (int o = 0; o < out; o++) {
                double want = 0;
                for (int k = 0; k < in; k++) {
                    want += (double) x[r * in + k] * w[o * in + k];
                }
                worst = Math.max(worst, Math.abs(got[r * out + o] - want));
                scale = Math.max(scale, Math.abs(want));
            }
        }
        return worst / scale;
    }
}

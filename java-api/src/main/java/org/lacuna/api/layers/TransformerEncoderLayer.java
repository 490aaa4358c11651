package org.lacuna.api.layers;

import java.util.List;
import java.util.SplittableRandom;
import org.lacuna.api.Scope;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.ScoreRule;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.AttentionOps;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.schedule.AttentionCandidates;
import org.lacuna.runtime.schedule.AttentionStatistics;
import org.lacuna.runtime.schedule.Candidate;
import org.lacuna.runtime.schedule.Decision;
import org.lacuna.runtime.schedule.Profiler;
import org.lacuna.runtime.schedule.Scheduler;

/**
 * A transformer encoder layer, pre-LayerNorm (ViT, DeiT — the models EViT and DynamicViT prune) by default:
 * <pre>
 *   h = x + Proj(Attention(LN1(x)))          attention within each sequence of the ragged batch
 *   y = h + FC2(GELU(FC1(LN2(h))))
 * </pre>
 * or post-LayerNorm as BERT and its family ({@link Config#withPostNorm()}):
 * <pre>
 *   h = LN1(x + Proj(Attention(x)))
 *   y = LN2(h + FC2(GELU(FC1(h))))
 * </pre>
 * With {@link TokenDropping} the layer first scores the tokens, keeps per sequence those the rule selects, runs the
 * whole block on the kept tokens only (gathered into a compact batch) and scatters the results back: dropped tokens
 * come out bit-identical to how they came in, and the output has the input's shape. Selection, gather and scatter
 * stay on the device; nothing waits for it.
 *
 * <p>Its linear layers are {@link Linear}s, so with {@link Config#twoFour()} those it names ({@link TwoFourScope}) are
 * magnitude-pruned to 2:4 at load and run on the 2:4 kernels (the sparse tensor cores where that is faster).
 */
public final class TransformerEncoderLayer implements AutoCloseable {
    private final Session session;
    private final Config config;
    private final LayerNorm norm1;
    private final MultiHeadAttention attention;
    private final LayerNorm norm2;
    private final Linear fc1;
    private final Linear fc2;
    private volatile String name;
    /** The layer's plan under the scheduler it came from (a new scheduler re-plans). */
    private volatile LayerPlan plan = new LayerPlan(null);
    private final ClosedFlag closed = new ClosedFlag();

    /**
     * Per bucket of the batch's statistics ({@link AttentionStatistics#bucketKey()}: the rest of the signature is
     * fixed per layer), whether the kept-tokens candidate serves, with the decision that chose it.
     */
    private record LayerPlan(Scheduler scheduler, java.util.concurrent.ConcurrentHashMap<Long, Decision> byBucket) {
        LayerPlan(Scheduler scheduler) {
            this(scheduler, new java.util.concurrent.ConcurrentHashMap<>());
        }
    }

    /**
     * @param hidden        model width: heads · head dim, head dim 32, 64 or 128
     * @param ffnHidden     width of the feed-forward layer
     * @param dtype         F16 or BF16: activations, weights and the attention kernels
     * @param causal        mask each token from the later ones of its sequence
     * @param tokenDropping null for a dense layer
     * @param twoFour       which linear layers to magnitude-prune to 2:4 at load
     * @param postNorm      normalise after each residual add (BERT) instead of before each sub-block (ViT)
     */
    public record Config(int hidden, int heads, int ffnHidden, DType dtype, boolean causal, double layerNormEpsilon,
                         TwoFourScope twoFour, TokenDropping tokenDropping, boolean postNorm) {
        public Config {
            String call = "TransformerEncoderLayer.Config";
            if (twoFour == null) {
                throw InvalidInputException.argument(call, "the 2:4 scope is required (TwoFourScope.NONE for dense)");
            }
            if (hidden <= 0 || heads <= 0 || ffnHidden <= 0 || hidden % heads != 0) {
                throw InvalidInputException.shape(call, "hidden " + hidden + " must split into " + heads
                        + " heads, ffn " + ffnHidden + " must be positive");
            }
            if (dtype != DType.F16 && dtype != DType.BF16) {
                throw InvalidInputException.dtype(call, "the attention kernels take F16 or BF16, not " + dtype);
            }
            new AttentionOptions(heads, hidden / heads, causal, 1.0); // validates the head dim
            if (!(layerNormEpsilon > 0)) {
                throw InvalidInputException.argument(call, "layer norm epsilon must be positive");
            }
        }

        /** Dense, non-causal, epsilon 1e-6 (ViT's), dense weights. */
        public static Config of(int hidden, int heads, int ffnHidden, DType dtype) {
            return new Config(hidden, heads, ffnHidden, dtype, false, 1e-6, TwoFourScope.NONE, null, false);
        }

        public Config withCausal(boolean isCausal) {
            return new Config(hidden, heads, ffnHidden, dtype, isCausal, layerNormEpsilon, twoFour, tokenDropping,
                    postNorm);
        }

        /** Magnitude-prune the four linear layers to 2:4 so they can run on the sparse tensor cores. */
        public Config withTwoFour() {
            return withTwoFour(TwoFourScope.ALL);
        }

        /** Magnitude-prune the linear layers {@code scope} names to 2:4 ({@link TwoFourScope#NONE}: dense). */
        public Config withTwoFour(TwoFourScope scope) {
            return new Config(hidden, heads, ffnHidden, dtype, causal, layerNormEpsilon, scope, tokenDropping, postNorm);
        }

        public Config withTokenDropping(TokenDropping dropping) {
            return new Config(hidden, heads, ffnHidden, dtype, causal, layerNormEpsilon, twoFour, dropping,
                    postNorm);
        }

        /** BERT's layout: LayerNorm after each residual add. */
        public Config withPostNorm() {
            return new Config(hidden, heads, ffnHidden, dtype, causal, layerNormEpsilon, twoFour, tokenDropping,
                    true);
        }

        public Config withLayerNormEpsilon(double epsilon) {
            return new Config(hidden, heads, ffnHidden, dtype, causal, epsilon, twoFour, tokenDropping, postNorm);
        }

        public int headDim() {
            return hidden / heads;
        }

        AttentionOptions attention() {
            return AttentionOptions.of(heads, headDim()).withCausal(causal);
        }
    }

    /**
     * The layer's parameters, row-major, weights as [out, in]. Biases and betas may be null.
     *
     * @param qkvWeight [3·hidden, hidden]: Q rows, K rows, V rows (PyTorch's in_proj_weight)
     */
    public record Weights(float[] norm1Gamma, float[] norm1Beta, float[] qkvWeight, float[] qkvBias, float[] projWeight,
                          float[] projBias, float[] norm2Gamma, float[] norm2Beta, float[] fc1Weight, float[] fc1Bias,
                          float[] fc2Weight, float[] fc2Bias) {
        /** Random parameters of a plausible scale (weights ~ U(±1/sqrt(in)), gammas near 1), for tests and benchmarks. */
        public static Weights random(Config config, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            int h = config.hidden();
            int f = config.ffnHidden();
            return new Weights(around(random, h, 1, 0.1), around(random, h, 0, 0.1), uniform(random, 3 * h * h, h),
                    around(random, 3 * h, 0, 0.05), uniform(random, h * h, h), around(random, h, 0, 0.05),
                    around(random, h, 1, 0.1), around(random, h, 0, 0.1), uniform(random, f * h, h),
                    around(random, f, 0, 0.05), uniform(random, h * f, f), around(random, h, 0, 0.05));
        }

        private static float[] uniform(SplittableRandom random, int count, int in) {
            float[] v = new float[count];
            double bound = 1 / Math.sqrt(in);
            for (int i = 0; i < count; i++) {
                v[i] = (float) random.nextDouble(-bound, bound);
            }
            return v;
        }

        private static float[] around(SplittableRandom random, int count, double centre, double spread) {
            float[] v = new float[count];
            for (int i = 0; i < count; i++) {
                v[i] = (float) (centre + random.nextDouble(-spread, spread));
            }
            return v;
        }
    }

    /** The layer's output and, when asked for, the attention each token received in it (F32 [tokens]). */
    public record Output(Tensor hidden, Tensor keyScores) {
    }

    private TransformerEncoderLayer(Session session, Config config, LayerNorm norm1, MultiHeadAttention attention,
                                    LayerNorm norm2, Linear fc1, Linear fc2) {
        this.session = session;
        this.config = config;
        this.norm1 = norm1;
        this.attention = attention;
        this.norm2 = norm2;
        this.fc1 = fc1;
        this.fc2 = fc2;
        this.name = session.layerName("encoder-block");
    }

    public static TransformerEncoderLayer create(Session session, Config config, Weights weights) {
        int h = config.hidden();
        Linear.Options dense = Linear.Options.of(config.dtype());
        Linear.Options attentionOptions = config.twoFour().prunesAttention() ? dense.pruned() : dense;
        Linear.Options ffnOptions = config.twoFour().prunesFeedForward() ? dense.pruned() : dense;
        Closer made = new Closer("TransformerEncoderLayer.create");
        try {
            LayerNorm norm1 = made.register(LayerNorm.create(session, weights.norm1Gamma(), weights.norm1Beta(),
                    config.layerNormEpsilon()));
            MultiHeadAttention attention = made.register(MultiHeadAttention.create(session, h, config.attention(),
                    weights.qkvWeight(), weights.qkvBias(), weights.projWeight(), weights.projBias(), attentionOptions));
            LayerNorm norm2 = made.register(LayerNorm.create(session, weights.norm2Gamma(), weights.norm2Beta(),
                    config.layerNormEpsilon()));
            Linear fc1 = made.register(Linear.create(session, weights.fc1Weight(), config.ffnHidden(), h, weights.fc1Bias(),
                    ffnOptions.withActivation(Activation.GELU)));
            Linear fc2 = made.register(Linear.create(session, weights.fc2Weight(), h, config.ffnHidden(), weights.fc2Bias(),
                    ffnOptions));
            return session.own(new TransformerEncoderLayer(session, config, norm1, attention, norm2, fc1, fc2));
        } catch (RuntimeException e) {
            throw made.closeAfter(e);
        }
    }

    /** The layer on x [tokens, hidden]; a layer that drops tokens must score them by their L2 norm here. */
    public Tensor forward(Tensor x, Sequences sequences) {
        return forward(x, sequences, null, null, null).hidden();
    }

    /**
     * The layer on x [tokens, hidden] of the given sequences.
     *
     * @param scores  F32 [tokens]: what a dropping layer ranks by under {@link ScoreRule#GIVEN},
     *                {@link ScoreRule#CLS_ATTENTION} or {@link ScoreRule#MEAN_ATTENTION_RECEIVED} (the previous
     *                layer's {@link Output#keyScores()}); ignored by a dense layer or under {@link ScoreRule#L2_NORM}
     * @param pinMask I32 [tokens], non-zero for tokens a dropping layer must keep; or null
     * @param emit    the received-attention scores to return for the next layer, or null. A dropping layer reports 0
     *                for the tokens it dropped: they received no attention in it.
     */
    public Output forward(Tensor x, Sequences sequences, Tensor scores, Tensor pinMask, KeyScore emit) {
        String call = "TransformerEncoderLayer.forward";
        if (closed.isClosed()) {
            throw new ResourceClosedException(call, "encoder layer");
        }
        if (x.session() != session) {
            throw InvalidInputException.argument(call, "the input belongs to another session");
        }
        if (x.dtype() != config.dtype() || x.shape().rank() != 2 || x.shape().dim(0) != sequences.tokens()
                || x.shape().dim(1) != config.hidden()) {
            throw InvalidInputException.shape(call, "input " + x.dtype() + x.shape() + " must be " + config.dtype() + "["
                    + sequences.tokens() + ", " + config.hidden() + "]");
        }
        TokenDropping dropping = config.tokenDropping();
        if (dropping == null) {
            return block(x, sequences.batch(), emit);
        }
        long started = System.nanoTime();
        Scheduler scheduler = session.scheduler();
        AttentionStatistics statistics = statistics(sequences, pinMask != null);
        LayerPlan current = plan;
        if (current.scheduler() != scheduler) {
            current = new LayerPlan(scheduler);
            plan = current;
        }
        Decision planned = current.byBucket().get(statistics.bucketKey());
        if (planned != null) {
            ChoosingTime.charge(scheduler, System.nanoTime() - started);
            boolean kept = planned.chosen().equals(AttentionCandidates.KEPT_TOKENS);
            Profiler profiler = session.profiler();
            if (!profiler.recording()) {
                return kept ? dropTokens(x, sequences, dropping, scores, pinMask, emit)
                        : block(x, sequences.batch(), emit);
            }
            Output[] result = new Output[1];
            profiler.time(name, planned.chosen(), "attention", () -> result[0] = kept
                    ? dropTokens(x, sequences, dropping, scores, pinMask, emit) : block(x, sequences.batch(), emit));
            return result[0];
        }
        // The bucket's first batch: the scheduler decides, measuring the candidates here if the policy asks. Its CPU
        // time is read from here, building the candidates included, as its wall time is.
        long startedCpu = ChoosingTime.cpuNanos();
        Output[] result = new Output[1];
        List<Candidate> bound = AttentionCandidates.of(session.backendName(), statistics, config.hidden(),
                config.ffnHidden(), true, () -> replace(result, block(x, sequences.batch(), emit)),
                () -> replace(result, dropTokens(x, sequences, dropping, scores, pinMask, emit)));
        // A measurement runs the block, whose linear layers charge their own choosing: count that once (this call's
        // charges only; other threads charge the same scheduler meanwhile).
        ChoosingTime.Collected<Decision> decided = ChoosingTime.collecting(
                () -> scheduler.decide(name, statistics, bound));
        Decision decision = decided.value();
        current.byBucket().put(statistics.bucketKey(), decision);
        ChoosingTime.charge(scheduler, Math.max(0, System.nanoTime() - started - decided.innerNanos()),
                Math.max(0, ChoosingTime.cpuNanos() - startedCpu - decided.innerCpuNanos()));
        Candidate chosen = Scheduler.chosen(decision, bound);
        session.profiler().time(name, chosen.name(), "attention", chosen.run());
        return result[0];
    }

    /**
     * Keeps the latest output of a candidate's run: a measured candidate runs several times and only the last
     * output (the chosen candidate's, which runs last) is returned, the others are closed.
     */
    private static void replace(Output[] slot, Output next) {
        Output previous = slot[0];
        slot[0] = next;
        if (previous != null) {
            previous.hidden().close();
            if (previous.keyScores() != null) {
                previous.keyScores().close();
            }
        }
    }

    /**
     * This layer's statistics on {@code sequences}: the tokens its dropping keeps at most, or every token where its
     * rule provably keeps all (a keep ratio whose rounding keeps each sequence whole and no pin mask to widen it).
     */
    public AttentionStatistics statistics(Sequences sequences, boolean pinMask) {
        long kept = sequences.tokens();
        TokenDropping dropping = config.tokenDropping();
        if (dropping != null) {
            boolean keepsAll = !pinMask && dropping.rule().budget() instanceof SelectionRule.KeepRatio;
            for (int length : sequences.lengths()) {
                keepsAll &= dropping.rule().maxKept(length, false) >= length;
            }
            kept = keepsAll ? sequences.tokens() : dropping.rule().capacity(sequences.tokens(), sequences.count(),
                    sequences.maxLength(), pinMask);
            if (!keepsAll && kept >= sequences.tokens()) {
                // A threshold (or pinned) rule may drop any number: it cannot be replaced by the in-place block.
                kept = sequences.tokens() - 1;
            }
        }
        return new AttentionStatistics(sequences.count(), sequences.tokens(), sequences.maxLength(), kept,
                config.heads(), config.headDim(), config.causal(), config.dtype());
    }

    /** The name this layer's decisions and profile events carry: its model's name for it, else encoder-block-N. */
    public String name() {
        return name;
    }

    /**
     * Names the block as its model knows it, e.g. {@code encoder.3}, and its linear layers after their roles in it:
     * {@code encoder.3.attention.qkv}, {@code encoder.3.attention.out}, {@code encoder.3.ffn.up},
     * {@code encoder.3.ffn.down}.
     */
    public TransformerEncoderLayer named(String layerName) {
        if (layerName == null || layerName.isBlank()) {
            throw InvalidInputException.argument("TransformerEncoderLayer.named", "a layer name must not be blank");
        }
        this.name = layerName;
        attention.named(layerName + ".attention");
        fc1.named(layerName + ".ffn.up");
        fc2.named(layerName + ".ffn.down");
        return this;
    }

    private Output dropTokens(Tensor x, Sequences sequences, TokenDropping dropping, Tensor given, Tensor pinMask,
                              KeyScore emit) {
        String call = "TransformerEncoderLayer.forward";
        AttentionOps ops = session.backend().ops().attention();
        SequenceBatch batch = sequences.batch();
        try (Scope scope = session.scope();
             TokenSelection selection = TokenSelection.allocate(session.backend(), batch, dropping.rule(),
                     pinMask != null)) {
            Tensor scores = given;
            if (dropping.score() == ScoreRule.L2_NORM) {
                scores = session.rowReduce(x, RowReduction.L2);
            } else if (given == null) {
                throw InvalidInputException.argument(call, "a layer that drops tokens by " + dropping.score()
                        + " needs the scores (the previous layer's keyScores for attention-based rules)");
            }
            ops.selectTokens(scores.array(call), batch, pinMask == null ? null : pinMask.array(call), dropping.rule(),
                    selection);
            if (dropping.verifyScores()) {
                selection.verify(session.backend());
            }
            Tensor kept = session.empty(x.dtype(), selection.capacity(), config.hidden());
            ops.gatherRows(x.array(call), selection, kept.array(call));
            Output inner = block(kept, selection.keptBatch(), emit);
            Tensor y = session.empty(x.dtype(), x.shape().dims());
            ops.scatterRows(inner.hidden().array(call), selection, x.array(call), y.array(call));
            Tensor keyScores = null;
            if (emit != null) {
                keyScores = session.empty(DType.F32, x.shape().dim(0));
                ops.scatterRows(inner.keyScores().array(call), selection, null, keyScores.array(call));
            }
            return kept(scope, y, keyScores);
        }
    }

    /**
     * The block on every row of x, attention within the sequences of {@code batch}. Pre-norm:
     * {@code h = x + attention(LN1(x)); y = h + FFN(LN2(h))}; post-norm (BERT's):
     * {@code h = LN1(x + attention(x)); y = LN2(h + FFN(h))}.
     */
    private Output block(Tensor x, SequenceBatch batch, KeyScore emit) {
        boolean postNorm = config.postNorm();
        String call = "TransformerEncoderLayer.forward";
        ElementwiseOps ops = session.backend().ops().elementwise();
        try (Scope scope = session.scope()) {
            MultiHeadAttention.Output a = attention.forward(postNorm ? x : norm1.forward(x), batch, emit);
            Tensor attended = a.hidden();
            if (postNorm) {
                // Each residual add is followed by its norm: one fused pass over the activations instead of two
                // (the op is checked against add + layerNorm in ElementwiseConformance, timed against them by
                // ResidualLayerNormBenchmark).
                Tensor h = norm1.forwardResidual(x, attended);
                Tensor f2 = fc2.forward(fc1.forward(h));
                return kept(scope, norm2.forwardResidual(h, f2), a.keyScores());
            }
            ops.add(x.array(call), attended.array(call), attended.array(call));
            Tensor f2 = fc2.forward(fc1.forward(norm2.forward(attended)));
            ops.add(attended.array(call), f2.array(call), f2.array(call));
            return kept(scope, f2, a.keyScores());
        }
    }

    /** The layer's output, handed out of the scope of its temporaries (which closes them). */
    private static Output kept(Scope scope, Tensor hidden, Tensor keyScores) {
        return new Output(scope.keep(hidden), keyScores == null ? null : scope.keep(keyScores));
    }

    public Config config() {
        return config;
    }

    public MultiHeadAttention attention() {
        return attention;
    }

    /** The linear layers: QKV, output projection, FC1, FC2 (to see which kernels serve them). */
    public List<Linear> linears() {
        return List.of(attention.qkvProjection(), attention.outputProjection(), fc1, fc2);
    }

    @Override
    public void close() {
        if (closed.markClosed()) {
            Closer.closeAll("TransformerEncoderLayer", norm1, attention, norm2, fc1, fc2);
        }
    }
}

package org.lacuna.api.layers;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.gemm.CsrMatrix;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.gemm.LinearKernel;
import org.lacuna.runtime.gemm.LinearKernelRule;
import org.lacuna.runtime.gemm.TwoFourConformance;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.gemm.TwoFourWeights;
import org.lacuna.runtime.gemm.WeightStatistics;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.schedule.Candidate;
import org.lacuna.runtime.schedule.Decision;
import org.lacuna.runtime.schedule.LinearCandidates;
import org.lacuna.runtime.schedule.LinearStatistics;
import org.lacuna.runtime.schedule.LiveTrial;
import org.lacuna.runtime.schedule.Scheduler;

/**
 * A fully connected layer {@code y = act(x · Wᵀ + b)} that holds its weight in every form that can serve it —
 * dense, 2:4-compressed for the sparse tensor cores, CSR for very sparse weights — and runs the fastest. Which
 * forms exist follows from the weight's statistics ({@link LinearKernelRule}); which candidate serves (each dense
 * path of the backend, 2:4, CSR) is the session's {@link Scheduler}'s choice, made once per token-count bucket from
 * the layer's {@link LinearStatistics} and kept with the chosen candidate's call, so a forward after the first of its
 * bucket reads one array slot and calls the kernel (no candidate lists, strings or store). Where the scheduler
 * measures, it measures on the layer's own calls ({@link LiveServing}): the bucket's next few calls are served by the
 * candidates in turn, each a timed sample that also produces the output, until the choice is made. Weights that are not 2:4
 * are used as they are,
 * or pruned to 2:4 when {@link Options#pruneToTwoFour()} asks for it. Owned by its session's lifetime; close it to
 * free its weights early.
 */
public final class Linear implements AutoCloseable {
    private final Session session;
    private final Options options;
    private final int out;
    private final int in;
    private final WeightStatistics statistics;
    private final List<LinearKernel> candidates;
    private final DeviceArray dense;
    private final TwoFourWeight twoFour;
    private final CsrWeight csr;
    private final Tensor bias;
    private final double blockDensity;
    private volatile String name;
    /** The layer's plan under the scheduler it came from (a new scheduler re-plans). */
    private volatile LayerPlan plan = new LayerPlan(null);
    private final ClosedFlag closed = new ClosedFlag();

    /** Per token bucket (indexed by the bucket's log2), the decision and the call of the candidate it chose. */
    private record LayerPlan(Scheduler scheduler, AtomicReferenceArray<Route> byBucket) {
        LayerPlan(Scheduler scheduler) {
            this(scheduler, new AtomicReferenceArray<>(Long.SIZE));
        }
    }

    /**
     * A planned bucket: what serves it, the fewest tokens it was checked to serve and the most it was found not to
     * serve (a backend may offer a path only from some token count on, e.g. a kernel that needs full tiles), and the
     * route planned for the bucket's token counts it does not serve (null until one came).
     */
    private record Route(LiveServing serving, long servesFrom, long refusedUpTo, Route fallback) {
        /** The route known to serve {@code tokens}, or null where an offer must be checked (or a decision made). */
        static Route known(Route route, long tokens) {
            for (Route r = route; r != null; r = r.fallback()) {
                if (tokens >= r.servesFrom()) {
                    return r;
                }
                if (tokens > r.refusedUpTo()) {
                    return null;
                }
            }
            return null;
        }

        Route servingFrom(long tokens) {
            return new Route(serving, tokens, refusedUpTo, fallback);
        }

        Route refusing(long tokens, Route below) {
            return new Route(serving, servesFrom, Math.max(refusedUpTo, tokens), below);
        }
    }

    /**
     * How the layer stores and runs its weight.
     *
     * @param dtype          storage and input type: F16 or BF16 (all kernels) or F32 (dense and CSR only)
     * @param outputType     type of the output tensor
     * @param pruneToTwoFour magnitude-prune a weight that is not 2:4 (otherwise it is used as given)
     * @param kernel         force one kernel instead of choosing; a forced TWO_FOUR needs a 2:4 (or pruned) weight
     */
    public record Options(DType dtype, DType outputType, org.lacuna.runtime.ops.Activation activation,
                          boolean pruneToTwoFour, Optional<LinearKernel> kernel) {
        public Options {
            if (!dtype.isFloatingPoint() || !outputType.isFloatingPoint()) {
                throw InvalidInputException.dtype("Linear.Options", "dtype and outputType must be F32, F16 or BF16");
            }
        }

        public static Options of(DType dtype) {
            return new Options(dtype, dtype, org.lacuna.runtime.ops.Activation.NONE, false, Optional.empty());
        }

        public Options withOutputType(DType type) {
            return new Options(dtype, type, activation, pruneToTwoFour, kernel);
        }

        public Options withActivation(org.lacuna.runtime.ops.Activation act) {
            return new Options(dtype, outputType, act, pruneToTwoFour, kernel);
        }

        public Options pruned() {
            return new Options(dtype, outputType, activation, true, kernel);
        }

        public Options forcing(LinearKernel forced) {
            return new Options(dtype, outputType, activation, pruneToTwoFour, Optional.of(forced));
        }
    }

    private Linear(Session session, Options options, int out, int in, WeightStatistics statistics,
                   List<LinearKernel> candidates, DeviceArray dense, TwoFourWeight twoFour, CsrWeight csr, Tensor bias,
                   double blockDensity) {
        this.session = session;
        this.blockDensity = blockDensity;
        this.name = session.layerName("linear");
        this.options = options;
        this.out = out;
        this.in = in;
        this.statistics = statistics;
        this.candidates = candidates;
        this.dense = dense;
        this.twoFour = twoFour;
        this.csr = csr;
        this.bias = bias;
    }

    /**
     * @param weight row-major [out, in]
     * @param bias   [out], or null
     */
    public static Linear create(Session session, float[] weight, int out, int in, float[] bias, Options options) {
        String call = "Linear.create";
        if (out <= 0 || in <= 0 || weight == null || weight.length != (long) out * in) {
            throw InvalidInputException.shape(call, (weight == null ? "no" : weight.length) + " weights do not form a ["
                    + out + ", " + in + "] matrix");
        }
        if (bias != null && bias.length != out) {
            throw InvalidInputException.shape(call, "bias has " + bias.length + " values, expected " + out);
        }
        for (int i = 0; i < weight.length; i++) {
            if (!Float.isFinite(weight[i])) {
                throw InvalidInputException.argument(call, "weight[" + i / in + "][" + i % in + "] is " + weight[i]);
            }
        }
        float[] w = weight;
        WeightStatistics statistics = WeightStatistics.of(w, out, in);
        if (options.pruneToTwoFour() && !statistics.twoFourConformant()) {
            w = TwoFourPruning.prune(weight, out, in);
            statistics = WeightStatistics.of(w, out, in);
        }
        List<LinearKernel> candidates;
        if (options.kernel().isPresent()) {
            LinearKernel forced = options.kernel().get();
            if (forced == LinearKernel.TWO_FOUR) {
                TwoFourConformance.require(w, out, in);
                if (options.dtype() == DType.F32) {
                    throw InvalidInputException.dtype(call, "the 2:4 kernel takes F16 or BF16 weights, not F32");
                }
            }
            candidates = List.of(forced);
        } else {
            candidates = LinearKernelRule.candidates(statistics, options.dtype());
        }
        var backend = session.backend();
        Closer cleanup = new Closer("Linear.create");
        try {
            DeviceArray dense = null;
            TwoFourWeight twoFour = null;
            CsrWeight csr = null;
            if (candidates.contains(LinearKernel.DENSE)) {
                DeviceArray d = DeviceWeights.uploadDense(backend, w, out, in, options.dtype());
                cleanup.register(d.buffer());
                dense = d;
            }
            if (candidates.contains(LinearKernel.TWO_FOUR)) {
                TwoFourWeight t = DeviceWeights.upload(backend, TwoFourWeights.compress(w, out, in, options.dtype()));
                cleanup.register(() -> DeviceWeights.release(t));
                twoFour = t;
            }
            if (candidates.contains(LinearKernel.CSR)) {
                CsrWeight c = DeviceWeights.upload(backend, CsrMatrix.fromDense(w, out, in, options.dtype()));
                cleanup.register(() -> DeviceWeights.release(c));
                csr = c;
            }
            Tensor biasTensor = bias == null ? null : session.fromFloats(bias, DType.F32, out);
            return session.own(new Linear(session, options, out, in, statistics, candidates, dense, twoFour, csr,
                    biasTensor, LinearStatistics.blockDensity(w, out, in)));
        } catch (RuntimeException e) {
            throw cleanup.closeAfter(e);
        }
    }

    /** {@code act(x · Wᵀ + b)} for x [..., in] of the layer's dtype; a new tensor [..., out] of the output type. */
    public Tensor forward(Tensor x) {
        checkOpen("Linear.forward");
        if (x == null) {
            throw InvalidInputException.argument("Linear.forward", "the input tensor is null");
        }
        if (x.isClosed()) {
            throw new org.lacuna.runtime.error.ResourceClosedException("Linear.forward", "the input tensor");
        }
        if (x.session() != session) {
            throw InvalidInputException.argument("Linear.forward", "the input belongs to another session");
        }
        if (x.dtype() != options.dtype()) {
            throw InvalidInputException.dtype("Linear.forward", "input is " + x.dtype() + ", the layer takes " + options.dtype());
        }
        long[] dims = x.shape().dims();
        if (dims.length < 2 || dims[dims.length - 1] != in) {
            throw InvalidInputException.shape("Linear.forward", "input " + x.shape() + " must be [..., " + in + "]");
        }
        dims[dims.length - 1] = out;
        Tensor y = session.empty(options.outputType(), dims);
        try {
            DeviceArray xs = x.array("Linear.forward");
            DeviceArray ys = y.array("Linear.forward");
            long tokens = xs.shape().rows();
            long started = System.nanoTime();
            Scheduler scheduler = session.scheduler();
            Route route = knownRoute(scheduler, tokens);
            // The bucket's first input (or the first its route is not offered for) decides: its CPU time is charged
            // too. A planned forward's lookup is charged on the wall clock alone (reading CPU time costs more).
            boolean deciding = route == null;
            long decidingCpu = deciding ? ChoosingTime.cpuNanos() : 0;
            if (deciding) {
                route = route(scheduler, tokens, xs, ys);
            }
            LiveServing serving = route.serving();
            LiveServing.DecidedCall call = serving.decidedCall();
            if (deciding) {
                ChoosingTime.charge(scheduler, System.nanoTime() - started, ChoosingTime.cpuNanos() - decidingCpu);
            } else {
                ChoosingTime.charge(scheduler, System.nanoTime() - started);
            }
            if (call == null) {
                // Deciding: this call is one of the live trial's samples.
                serving.serve(scheduler, name, session.profiler(), xs, ys);
            } else {
                serving.serveDecided(call, name, session.profiler(), xs, ys);
            }
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** The planned route for {@code tokens} rows, or null where the bucket must plan (a planned forward's path). */
    private Route knownRoute(Scheduler scheduler, long tokens) {
        LayerPlan current = plan;
        if (current.scheduler() != scheduler) {
            return null;
        }
        return Route.known(current.byBucket().get(Long.numberOfTrailingZeros(tokenBucket(tokens))), tokens);
    }

    /**
     * The planned route for {@code tokens} rows: an array read once the bucket is planned; the first input of a
     * bucket asks the scheduler (which may measure the candidates on x into y), and so does the first input its
     * route is not offered for, whose route is kept beside it for the bucket's other such inputs.
     */
    private Route route(Scheduler scheduler, long tokens, DeviceArray xs, DeviceArray ys) {
        LayerPlan current = plan;
        if (current.scheduler() != scheduler) {
            current = new LayerPlan(scheduler);
            plan = current;
        }
        int bucket = Long.numberOfTrailingZeros(tokenBucket(tokens));
        Route planned = current.byBucket().get(bucket);
        Route known = Route.known(planned, tokens);
        if (known != null) {
            return known;
        }
        Route updated = planned(scheduler, planned, tokens, xs, ys);
        current.byBucket().set(bucket, updated);
        return Route.known(updated, tokens);
    }

    /**
     * {@code route} (null: none yet) extended to serve {@code tokens}: the offer of its candidate checked, else its
     * fallback extended in turn, else a new decision.
     */
    private Route planned(Scheduler scheduler, Route route, long tokens, DeviceArray xs, DeviceArray ys) {
        var ops = session.backend().ops();
        LinearCandidates.Forms forms = forms();
        if (route == null) {
            LinearStatistics s = statistics(tokens);
            // The backend's paths walked once: the candidates for the scheduler and the calls the route keeps.
            LinearCandidates.Offers offers = LinearCandidates.offers(session.backendName(), ops, s, forms, xs, ys);
            LiveTrial trial = scheduler.decideLive(name, s, offers.candidates());
            return new Route(new LiveServing(trial, offers::call), tokens, 0, null);
        }
        if (tokens >= route.servesFrom()) {
            return route;
        }
        if (tokens > route.refusedUpTo() && offersAll(ops, tokens, forms, route.serving().names())) {
            return route.servingFrom(tokens);
        }
        return route.refusing(tokens, planned(scheduler, route.fallback(), tokens, xs, ys));
    }

    private static boolean offersAll(OpSet ops, long tokens, LinearCandidates.Forms forms,
                                     List<String> names) {
        for (String n : names) {
            if (!LinearCandidates.offers(ops, tokens, forms, n)) {
                return false;
            }
        }
        return true;
    }

    LinearCandidates.Forms forms() {
        DeviceArray b = bias == null ? null : bias.array("Linear.forward");
        // A forced kernel keeps only its own form; otherwise every form the layer holds is a candidate.
        return new LinearCandidates.Forms(dense, twoFour, csr, b, options.activation(), options.outputType());
    }

    /** The layer's statistics on an input of {@code tokens} rows. */
    public LinearStatistics statistics(long tokens) {
        return new LinearStatistics(tokens, in, out, options.dtype(), statistics.density(), statistics.conformance(),
                blockDensity);
    }

    /** Token counts rounded up to a power of two share a decision. */
    static long tokenBucket(long tokens) {
        return org.lacuna.runtime.schedule.LayerStatistics.sizeBucket(tokens);
    }

    /**
     * The kernel that serves inputs of {@code tokens} rows, from the decision for their bucket whose candidate is
     * offered for them (the bucket's route, or the one planned for its token counts that route does not serve);
     * before any such input, the scheduler's prediction (nothing runs).
     */
    public LinearKernel kernelFor(long tokens) {
        LayerPlan current = plan;
        Route route = current.scheduler() == session.scheduler()
                ? current.byBucket().get(Long.numberOfTrailingZeros(tokenBucket(tokens))) : null;
        var ops = session.backend().ops();
        LinearCandidates.Forms forms = forms();
        while (route != null && tokens < route.servesFrom() && (tokens <= route.refusedUpTo()
                || !offersAll(ops, tokens, forms, route.serving().names()))) {
            route = route.fallback();
        }
        String chosen = route != null ? route.serving().decision().chosen() : predictedChoice(tokens);
        return kernelOf(chosen);
    }

    private String predictedChoice(long tokens) {
        Scheduler scheduler = session.scheduler();
        List<Candidate> predicted = LinearCandidates.of(session.backendName(), session.backend().ops(),
                statistics(tokens), forms(), null, null);
        return predicted.stream().min(java.util.Comparator.comparingDouble(scheduler::predictMillis)).orElseThrow()
                .name();
    }

    /** The weight form a candidate name runs on. */
    static LinearKernel kernelOf(String candidate) {
        if (candidate.endsWith("dense")) {
            return LinearKernel.DENSE;
        }
        return candidate.equals("csr") ? LinearKernel.CSR : LinearKernel.TWO_FOUR;
    }

    /**
     * Every decision made so far with the current scheduler, per token bucket: the bucket's first, then the one for
     * its token counts whose route that candidate is not offered for, if any came.
     */
    public java.util.Map<Long, List<Decision>> decisions() {
        LayerPlan current = plan;
        java.util.Map<Long, List<Decision>> out = new java.util.TreeMap<>();
        for (int i = 0; i < current.byBucket().length(); i++) {
            List<Decision> bucket = new ArrayList<>();
            for (Route r = current.byBucket().get(i); r != null; r = r.fallback()) {
                bucket.add(r.serving().decision());
            }
            if (!bucket.isEmpty()) {
                out.put(1L << i, List.copyOf(bucket));
            }
        }
        return java.util.Map.copyOf(out);
    }

    /** The name this layer's decisions and profile events carry: the model's name for it, else {@code linear-N}. */
    public String name() {
        return name;
    }

    /**
     * Names the layer as its model knows it (e.g. {@code encoder.3.ffn.up}) for plans, profiles and traces; decisions
     * made under the old name keep it.
     */
    public Linear named(String layerName) {
        if (layerName == null || layerName.isBlank()) {
            throw InvalidInputException.argument("Linear.named", "a layer name must not be blank");
        }
        this.name = layerName;
        return this;
    }

    public List<LinearKernel> candidates() {
        return candidates;
    }

    public WeightStatistics statistics() {
        return statistics;
    }

    public int outFeatures() {
        return out;
    }

    public int inFeatures() {
        return in;
    }

    @Override
    public void close() {
        if (!closed.markClosed()) {
            return;
        }
        // A live trial this layer was sampling for passes its samples to another layer of the signature.
        LayerPlan current = plan;
        for (int i = 0; i < current.byBucket().length(); i++) {
            for (Route r = current.byBucket().get(i); r != null; r = r.fallback()) {
                r.serving().release();
            }
        }
        Closer.closeAll("Linear", dense == null ? null : dense.buffer(),
                twoFour == null ? null : () -> DeviceWeights.release(twoFour),
                csr == null ? null : () -> DeviceWeights.release(csr), bias);
    }

    private void checkOpen(String call) {
        if (closed.isClosed()) {
            throw new ResourceClosedException(call, "linear layer");
        }
    }
}

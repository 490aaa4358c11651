package org.lacuna.api.layers;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.sparseconv.BatchNormFolding;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.schedule.Candidate;
import org.lacuna.runtime.schedule.ConvolutionCandidates;
import org.lacuna.runtime.schedule.ConvolutionStatistics;
import org.lacuna.runtime.schedule.Decision;
import org.lacuna.runtime.schedule.Profiler;
import org.lacuna.runtime.schedule.Scheduler;

/**
 * A 3-D sparse convolution layer: submanifold (outputs on the input coordinates), strided (downsampling onto the
 * coordinates floored to the coarser stride) or transposed (upsampling back onto the coordinates a strided layer
 * of the same geometry came from). {@code y = act(conv(x, W) + b)}, with a following batch norm folded into W and b.
 *
 * <pre>{@code
 * SparseConv3d conv = SparseConv3d.create(session, ConvGeometry.submanifold(3), 4, 32, weights, bias,
 *         SparseConv3d.Options.of(DType.F16).withActivation(Activation.RELU));
 * SparseTensor y = conv.forward(x);
 * }</pre>
 *
 * Kernel maps are cached on the input's coordinates, so layers applied to the same coordinates with the same
 * geometry share one map. The dataflow is the session's {@link Scheduler}'s choice per signature bucket of the map's
 * {@link ConvolutionStatistics} (the layer fixes channels, dtype and geometry; the bucket adds the kernel volume, the
 * bucketed input and output point counts and neighbours per row), unless {@link Options#dataflow()} forces one: the
 * layer plans each bucket once, so a new cloud whose map falls in a planned bucket asks the scheduler nothing and
 * estimates nothing (no tile-redundancy sort of its rows).
 */
public final class SparseConv3d implements AutoCloseable {
    private final Session session;
    private final ConvGeometry geometry;
    private final int in;
    private final int out;
    private final Options options;
    private final Tensor weights;
    private final Tensor bias;
    private volatile Dataflow lastDataflow;
    private volatile String name;
    /** The layer's plan under the scheduler it came from (a new scheduler re-plans). */
    private volatile LayerPlan plan = new LayerPlan(null);
    private final ClosedFlag closed = new ClosedFlag();

    /**
     * Per signature bucket, the planned route (routes refer to no map: a plan never keeps coordinates alive), and the
     * last route used: a forward on the same map as the previous one reads one field, one on another map of a
     * planned bucket computes the bucket's signature and looks it up.
     */
    private static final class LayerPlan {
        final Scheduler scheduler;
        final ConcurrentHashMap<String, Route> bySignature = new ConcurrentHashMap<>();
        volatile LastRoute last;

        LayerPlan(Scheduler scheduler) {
            this.scheduler = scheduler;
        }
    }

    /** A planned bucket's decision and the chosen candidate's call. */
    private record Route(Decision decision, ConvolutionCandidates.Call call) {
    }

    /**
     * The route of the previous forward, its map (held weakly, compared by identity) and the dataflow it ran there
     * (the rule's choice may differ between maps of one bucket).
     */
    private record LastRoute(WeakReference<KernelMap> map, Route route, Dataflow dataflow) {
        boolean isOn(KernelMap other) {
            return map.get() == other;
        }
    }

    /**
     * @param dtype    weight and feature type: F32 or F16 (inputs must have it)
     * @param dataflow force a dataflow instead of the statistics' choice
     */
    public record Options(DType dtype, Activation activation, Optional<Dataflow> dataflow) {
        public Options {
            Objects.requireNonNull(activation, "activation");
            Objects.requireNonNull(dataflow, "dataflow");
            if (dtype != DType.F32 && dtype != DType.F16) {
                throw InvalidInputException.dtype("SparseConv3d.Options", "dtype must be F32 or F16, not " + dtype);
            }
            if (activation == Activation.GELU) {
                throw InvalidInputException.argument("SparseConv3d.Options", "the epilogue applies NONE or RELU");
            }
        }

        public static Options of(DType dtype) {
            return new Options(dtype, Activation.NONE, Optional.empty());
        }

        public Options withActivation(Activation act) {
            return new Options(dtype, act, dataflow);
        }

        public Options forcing(Dataflow forced) {
            return new Options(dtype, activation, Optional.of(forced));
        }
    }

    /** Inference-mode batch-norm parameters, one entry per output channel. */
    public record BatchNorm(float[] gamma, float[] beta, float[] mean, float[] variance, double epsilon) {
    }

    private SparseConv3d(Session session, ConvGeometry geometry, int in, int out, Options options, Tensor weights,
                         Tensor bias) {
        this.session = session;
        this.geometry = geometry;
        this.in = in;
        this.out = out;
        this.options = options;
        this.weights = weights;
        this.bias = bias;
        this.name = session.layerName("sparse-conv");
    }

    /**
     * @param weights [volume, in, out] row-major, offsets in {@link ConvGeometry#offset} order (x slowest)
     * @param bias    [out], or null
     */
    public static SparseConv3d create(Session session, ConvGeometry geometry, int in, int out, float[] weights,
                                      float[] bias, Options options) {
        return create(session, geometry, in, out, weights, bias, null, options);
    }

    /** As {@link #create(Session, ConvGeometry, int, int, float[], float[], Options)}, folding {@code norm} in. */
    public static SparseConv3d create(Session session, ConvGeometry geometry, int in, int out, float[] weights,
                                      float[] bias, BatchNorm norm, Options options) {
        String call = "SparseConv3d.create";
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(geometry, "geometry");
        Objects.requireNonNull(options, "options");
        if (in < 1 || out < 1 || weights == null || weights.length != (long) geometry.volume() * in * out) {
            throw InvalidInputException.shape(call, (weights == null ? "no" : weights.length) + " weights do not form ["
                    + geometry.volume() + ", " + in + ", " + out + "] for " + geometry);
        }
        if (bias != null && bias.length != out) {
            throw InvalidInputException.shape(call, "bias has " + bias.length + " values, expected " + out);
        }
        for (int i = 0; i < weights.length; i++) {
            if (!Float.isFinite(weights[i])) {
                throw InvalidInputException.argument(call, "weight " + i + " is " + weights[i]);
            }
        }
        float[] w = weights;
        float[] b = bias;
        if (norm != null) {
            BatchNormFolding.Folded folded = BatchNormFolding.fold(weights, bias, out, norm.gamma(), norm.beta(),
                    norm.mean(), norm.variance(), norm.epsilon());
            w = folded.weights();
            b = folded.bias();
        }
        Tensor weightTensor = session.fromFloats(w, options.dtype(), geometry.volume(), in, out);
        try {
            Tensor biasTensor = b == null ? null : session.fromFloats(b, DType.F32, out);
            return session.own(new SparseConv3d(session, geometry, in, out, options, weightTensor, biasTensor));
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, weightTensor);
        }
    }

    /** The convolution of {@code x}: a new sparse tensor owned by the session, with features of the layer's dtype. */
    public SparseTensor forward(SparseTensor x) {
        String call = "SparseConv3d.forward";
        checkOpen(call);
        Objects.requireNonNull(x, "x");
        if (x.isClosed()) {
            throw new ResourceClosedException(call, "the input sparse tensor");
        }
        if (x.session() != session) {
            throw InvalidInputException.argument(call, "the input belongs to another session");
        }
        if (x.channels() != in) {
            throw InvalidInputException.shape(call, "channel mismatch: the input has " + x.channels()
                    + " channels but the layer takes " + in);
        }
        if (x.featureType() != options.dtype()) {
            throw InvalidInputException.dtype(call, "the input features are " + x.featureType() + " but the layer "
                    + "computes in " + options.dtype() + "; cast them first");
        }
        KernelMap map = kernelMap(x);
        Tensor features = session.empty(options.dtype(), map.outputCount(), out);
        try {
            var ops = session.backend().ops();
            var operands = new ConvolutionCandidates.Operands(x.features().array(call), weights.array(call),
                    bias == null ? null : bias.array(call), options.activation(), features.array(call));
            if (options.dataflow().isPresent()) {
                Dataflow forced = options.dataflow().get();
                session.profiler().time(name, forced.name(), "sparse-conv", () -> ops.convolution()
                        .sparseConvolution(operands.x(), map, operands.weights(), operands.bias(),
                                operands.activation(), forced, operands.y()));
                lastDataflow = forced;
            } else {
                long started = System.nanoTime();
                Scheduler scheduler = session.scheduler();
                LastRoute planned = route(scheduler, map, operands);
                ChoosingTime.charge(scheduler, System.nanoTime() - started);
                Route route = planned.route();
                Profiler profiler = session.profiler();
                if (profiler.recording()) {
                    profiler.time(name, route.decision().chosen(), "sparse-conv",
                            () -> route.call().run(operands, map));
                } else {
                    route.call().run(operands, map);
                }
                lastDataflow = planned.dataflow();
            }
            return SparseTensor.onCoordinateSet(map.outputs(), features);
        } catch (RuntimeException e) {
            features.close();
            throw e;
        }
    }

    /**
     * The planned route on {@code map}: a field read when the map is the previous forward's, a lookup by the map's
     * signature bucket for a bucket planned before; otherwise the scheduler decides (by the map's statistics, so
     * layers whose maps share a bucket share the decision). Candidates estimate their work only if the scheduler
     * has no decision for the signature yet.
     */
    private LastRoute route(Scheduler scheduler, KernelMap map, ConvolutionCandidates.Operands operands) {
        LayerPlan current = plan;
        if (current.scheduler != scheduler) {
            current = new LayerPlan(scheduler);
            plan = current;
        }
        LastRoute last = current.last;
        if (last != null && last.isOn(map)) {
            return last;
        }
        ConvolutionStatistics statistics = statistics(map);
        String signature = statistics.signature();
        Route route = current.bySignature.get(signature);
        if (route == null) {
            // A decision: its CPU time is charged beside the wall time the caller charges.
            long startedCpu = ChoosingTime.cpuNanos();
            var ops = session.backend().ops();
            List<Candidate> bound = ConvolutionCandidates.of(session.backendName(), ops.convolution(), ops,
                    statistics, operands);
            Decision decision = scheduler.decide(name, statistics, bound);
            route = new Route(decision, ConvolutionCandidates.call(session.backendName(), ops.convolution(), ops,
                    decision.chosen()));
            Route raced = current.bySignature.putIfAbsent(signature, route);
            route = raced == null ? route : raced;
            ChoosingTime.charge(scheduler, 0, ChoosingTime.cpuNanos() - startedCpu);
        }
        LastRoute now = new LastRoute(new WeakReference<>(map), route,
                ConvolutionCandidates.dataflowOf(route.decision().chosen(), session.backendName(), map));
        current.last = now;
        return now;
    }

    /** How many signature buckets this layer has planned under the session's current scheduler, for tests. */
    int plannedBuckets() {
        LayerPlan current = plan;
        return current.scheduler == session.scheduler() ? current.bySignature.size() : 0;
    }

    /** This layer's statistics on {@code map}. */
    public ConvolutionStatistics statistics(KernelMap map) {
        return new ConvolutionStatistics(map, in, out, options.dtype());
    }

    /** The name this layer's decisions and profile events carry: its model's name for it, else sparse-conv-N. */
    public String name() {
        return name;
    }

    /** Names the layer as its model knows it (e.g. {@code stage1.0.net.0}) for plans, profiles and traces. */
    public SparseConv3d named(String layerName) {
        if (layerName == null || layerName.isBlank()) {
            throw InvalidInputException.argument("SparseConv3d.named", "a layer name must not be blank");
        }
        this.name = layerName;
        return this;
    }

    /** The kernel map this layer uses for {@code x}: built on first use, shared with layers of the same geometry. */
    public KernelMap kernelMap(SparseTensor x) {
        return x.coordinateSet().kernelMap(geometry);
    }

    /** The dataflow of the last {@link #forward}, or empty before the first. */
    public Optional<Dataflow> lastDataflow() {
        return Optional.ofNullable(lastDataflow);
    }

    public ConvGeometry geometry() {
        return geometry;
    }

    public int inChannels() {
        return in;
    }

    public int outChannels() {
        return out;
    }

    @Override
    public synchronized void close() {
        if (closed.markClosed()) {
            Closer.closeAll("SparseConv3d", weights, bias);
        }
    }

    private synchronized void checkOpen(String call) {
        if (closed.isClosed()) {
            throw new ResourceClosedException(call, "SparseConv3d " + geometry);
        }
    }

    @Override
    public String toString() {
        return "SparseConv3d[" + geometry + ", " + in + " -> " + out + ", " + options.dtype() + ", "
                + options.activation() + "]";
    }
}

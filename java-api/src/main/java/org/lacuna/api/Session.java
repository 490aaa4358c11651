package org.lacuna.api;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.backend.MemoryStats;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.schedule.Policy;
import org.lacuna.runtime.schedule.Profiler;
import org.lacuna.runtime.schedule.Scheduler;

/**
 * A backend bound to one device, and everything made on it.
 *
 * <p><b>Ownership.</b> Everything made through a session (tensors, layers, networks, encoders: every factory that
 * takes a session registers its result with {@link #own}) belongs to the innermost {@link #scope() scope} open on the
 * calling thread, else to the session. Closing the scope or the session closes what it owns, the most recently made
 * first, then (for the session) the backend with its pool, streams and kernels. Closing anything earlier is allowed
 * and idempotent; a layer closes the parts it was built from. Every failure while closing is reported: the first is
 * thrown with the later ones suppressed in it.
 *
 * <p>Thread-safe for tensor bookkeeping; scopes are per thread; ops are issued in call order on the backend's stream.
 */
public final class Session implements AutoCloseable {
    private final Backend backend;
    private final String backendReason;
    private final Closer owned = new Closer("Session");
    private final ThreadLocal<Scope> currentScope = new ThreadLocal<>();
    private final ClosedFlag closed = new ClosedFlag();
    private final Profiler profiler;
    private final java.util.concurrent.atomic.AtomicInteger layerNumbers = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Scheduler scheduler;

    Session(Backend backend, String backendReason) {
        this.backend = backend;
        this.backendReason = backendReason;
        this.profiler = new Profiler(backend::newTimer);
    }

    /**
     * The scheduler that picks each layer's kernel, made on first use ({@link Scheduling#open}): the tuning store in
     * the cache folder, the device's efficiency table from it (or measured now, once per device, and stored), the
     * policy from {@code lacuna.schedule} / {@code LACUNA_SCHEDULE} (default {@code auto}).
     */
    public Scheduler scheduler() {
        Scheduler current = scheduler;
        if (current != null && !closed.isClosed()) {
            // Every layer asks on every forward: the made scheduler is one volatile read away.
            return current;
        }
        synchronized (this) {
            checkOpen("Session.scheduler");
            if (scheduler == null) {
                scheduler = Scheduling.open(backend, Scheduling.configuredPolicy());
            }
            return scheduler;
        }
    }

    /**
     * Replaces the scheduler (another policy, a hand-written efficiency table): layers re-plan on their next call.
     * The old one's unwritten choices go to its store's background writer
     * ({@link org.lacuna.runtime.schedule.TuningStore#flushLater}), its trials deciding or not: no forward of it will
     * hand them over.
     */
    public synchronized void useScheduler(Scheduler replacement) {
        checkOpen("Session.useScheduler");
        java.util.Objects.requireNonNull(replacement, "scheduler");
        if (scheduler != null && scheduler != replacement) {
            scheduler.store().flushLater();
        }
        scheduler = replacement;
    }

    /** Switches to {@code policy}, keeping the device's table and store; layers re-plan on their next call. */
    public synchronized Scheduler schedule(Policy policy) {
        Scheduler current = scheduler();
        current.flush();
        scheduler = new Scheduler(current.device(), current.efficiency(), current.store(), policy,
                backend::newTimer);
        return scheduler;
    }

    /** The per-layer profiler of this session's runs (off until started). */
    public Profiler profiler() {
        return profiler;
    }

    /** A name for a layer of {@code kind} that has none: {@code linear-3}. */
    public String layerName(String kind) {
        return kind + "-" + layerNumbers.incrementAndGet();
    }

    /** {@code cpu} or {@code cuda}. */
    public String backendName() {
        return backend.name();
    }

    /** Why this backend serves, e.g. the reason CUDA was unavailable when the CPU backend is a fallback. */
    public String backendReason() {
        return backendReason;
    }

    public DeviceInfo device() {
        return backend.device();
    }

    public MemoryStats memoryStats() {
        return backend.memoryStats();
    }

    /** A tensor holding {@code values} (rounded to {@code dtype} if it is F16 or BF16). */
    public Tensor fromFloats(float[] values, DType dtype, long... shape) {
        checkOpen("Session.fromFloats");
        return adopt(HostData.upload(backend, dtype, Shape.of(shape), values));
    }

    public Tensor fromInts(int[] values, long... shape) {
        checkOpen("Session.fromInts");
        return adopt(HostData.upload(backend, Shape.of(shape), values));
    }

    public Tensor fromLongs(long[] values, long... shape) {
        checkOpen("Session.fromLongs");
        return adopt(HostData.upload(backend, Shape.of(shape), values));
    }

    /** A tensor with undefined contents, to be written by an op. */
    public Tensor empty(DType dtype, long... shape) {
        checkOpen("Session.empty");
        Shape s = Shape.of(shape);
        return adopt(new DeviceArray(backend.allocate(s.elementCount() * dtype.byteSize()), 0, dtype, s));
    }

    /** {@code act(x + bias)} with bias broadcast over rows, into a new tensor of {@code outType}. */
    public Tensor biasActivation(Tensor x, Tensor bias, Activation activation, DType outType) {
        checkOwns("Session.biasActivation", x);
        if (bias != null) {
            checkOwns("Session.biasActivation", bias);
        }
        Tensor out = empty(outType, x.shape().dims());
        return runInto(out, () -> backend.ops().elementwise().biasActivation(x.array("biasActivation"),
                bias == null ? null : bias.array("biasActivation"), activation, out.array("biasActivation")));
    }

    /** {@code a + b} element-wise in fp32 with one rounding, into a new tensor of their shape and dtype. */
    public Tensor add(Tensor a, Tensor b) {
        checkOwns("Session.add", a);
        checkOwns("Session.add", b);
        Tensor out = empty(a.dtype(), a.shape().dims());
        return runInto(out, () -> backend.ops().elementwise().add(a.array("add"), b.array("add"), out.array("add")));
    }

    public Tensor cast(Tensor x, DType outType) {
        checkOwns("Session.cast", x);
        Tensor out = empty(outType, x.shape().dims());
        return runInto(out, () -> backend.ops().elementwise().cast(x.array("cast"), out.array("cast")));
    }

    /** One F32 value per row of x viewed as [rows, last dimension]. */
    public Tensor rowReduce(Tensor x, RowReduction reduction) {
        checkOwns("Session.rowReduce", x);
        Tensor out = empty(DType.F32, x.shape().rows());
        return runInto(out, () -> backend.ops().elementwise().rowReduce(x.array("rowReduce"), reduction, out.array("rowReduce")));
    }

    /**
     * Ties {@code resource} (a layer, a model) to the innermost open scope on this thread, else to this session:
     * closing that closes it, most recently made first. Closing it earlier is fine; its {@code close()} must be
     * idempotent. A closed resource stays referenced (not its device memory) until its owner closes.
     */
    public <T extends AutoCloseable> T own(T resource) {
        checkOpen("Session.own");
        return holder().register(resource);
    }

    /**
     * Opens a scope for temporaries on this thread: every tensor, layer or network made through this session on this
     * thread until the scope closes belongs to it, and closing the scope closes them (on any path, a failure
     * included). {@link Scope#keep} hands a result to the enclosing scope (or the session) so it outlives this one:
     * <pre>{@code
     * try (Scope scope = session.scope()) {
     *     Tensor h = norm.forward(x);
     *     return scope.keep(fc.forward(h)); // h is closed here, the output is not
     * }
     * }</pre>
     * Scopes nest; closing one also closes the scopes opened inside it. A scope left open is closed with its session.
     */
    public Scope scope() {
        checkOpen("Session.scope");
        Scope parent = innermostScope();
        Scope scope = new Scope(this, parent);
        holder().register(scope);
        currentScope.set(scope);
        return scope;
    }

    /** A timer for work on this session's stream (CUDA events on a GPU). */
    public DeviceTimer newTimer() {
        checkOpen("Session.newTimer");
        return backend.newTimer();
    }

    /** Waits for all work issued so far. */
    public void synchronize() {
        checkOpen("Session.synchronize");
        backend.synchronize();
    }

    /** The backend underneath, for runtime-level code (benchmarks, layers). */
    public Backend backend() {
        checkOpen("Session.backend");
        return backend;
    }

    public boolean isClosed() {
        return closed.isClosed();
    }

    /**
     * Closes every scope, layer and tensor still open (most recently made first), then the backend. Idempotent.
     * Call it once the session's work has returned: an op still running on another thread may find its tensors freed
     * under it (the CPU backend waits for its own ops in flight, but the tensors are closed first).
     */
    @Override
    public void close() {
        // Under the lock scheduler() makes its scheduler under: one made before the close is the one flushed here.
        synchronized (this) {
            if (!closed.markClosed()) {
                return;
            }
        }
        Scheduler current = scheduler;
        // The plan's choices reach the tuning store's file (a no-op when nothing new was chosen).
        Closer.closeAll("Session", current == null ? null : current::flush, owned, backend);
    }

    /** Runs an op writing {@code out}; if it fails, {@code out} is released so nothing leaks. */
    private Tensor runInto(Tensor out, Runnable op) {
        try {
            op.run();
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * A tensor over {@code array}, which an op made on this session's backend (a voxeliser's resident features): the
     * tensor owns it from now on and frees its buffer when closed (with its scope or this session). The call takes
     * the buffer over whatever happens: if the session is closed, or the array lives on another backend, the buffer
     * is freed and the call fails (the caller handed it over and holds nothing to free).
     */
    public Tensor adopt(DeviceArray array) {
        java.util.Objects.requireNonNull(array, "array");
        if (!closed.isClosed() && !array.buffer().backendName().equals(backend.name())) {
            array.buffer().close();
            throw InvalidInputException.argument("Session.adopt", "the array lives on " + array.buffer().backendName()
                    + ", not on this session's backend " + backend.name());
        }
        if (closed.isClosed()) {
            array.buffer().close();
            throw new ResourceClosedException("Session", "session");
        }
        Tensor tensor = new Tensor(this, array, null);
        Closer holder = holder();
        tensor.ownedBy(holder);
        return holder.register(tensor);
    }

    /** The closer that owns what this thread makes now: the innermost open scope's, else the session's. */
    Closer holder() {
        Scope scope = innermostScope();
        return scope == null ? owned : scope.closer();
    }

    /** The innermost scope of this thread still open; scopes closed out of order (or by the session) are skipped. */
    Scope innermostScope() {
        Scope scope = currentScope.get();
        while (scope != null && scope.isClosed()) {
            scope = scope.parent();
        }
        if (scope == null) {
            currentScope.remove();
        } else {
            currentScope.set(scope);
        }
        return scope;
    }

    /** The closer that takes over what a closing scope keeps: the parent scope's while it is open, else this one's. */
    Closer outerHolder(Scope parent) {
        Scope scope = parent;
        while (scope != null && scope.isClosed()) {
            scope = scope.parent();
        }
        return scope == null ? owned : scope.closer();
    }

    Backend backendUnchecked() {
        return backend;
    }

    void checkOpen(String call) {
        if (isClosed()) {
            throw new ResourceClosedException(call, "session");
        }
    }

    void checkOwns(String call, Tensor tensor) {
        checkOpen(call);
        if (tensor == null) {
            throw InvalidInputException.argument(call, "tensor is null");
        }
        if (tensor.session() != this) {
            throw InvalidInputException.argument(call, "the tensor belongs to another session");
        }
    }
}

package org.lacuna.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
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
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;

/**
 * A backend bound to one device, and everything made on it. Tensors belong to the session that made them:
 * closing the session closes every tensor still open, then the backend (its pool, streams and kernels).
 * Thread-safe for tensor bookkeeping; ops are issued in call order on the backend's stream.
 */
public final class Session implements AutoCloseable {
    private final Backend backend;
    private final String backendReason;
    private final Set<Tensor> owned = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<AutoCloseable> resources = new ArrayList<>();
    private boolean closed;

    Session(Backend backend, String backendReason) {
        this.backend = backend;
        this.backendReason = backendReason;
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
        return runInto(out, () -> backend.ops().biasActivation(x.array("biasActivation"),
                bias == null ? null : bias.array("biasActivation"), activation, out.array("biasActivation")));
    }

    /** {@code a + b} element-wise in fp32 with one rounding, into a new tensor of their shape and dtype. */
    public Tensor add(Tensor a, Tensor b) {
        checkOwns("Session.add", a);
        checkOwns("Session.add", b);
        Tensor out = empty(a.dtype(), a.shape().dims());
        return runInto(out, () -> backend.ops().attention().add(a.array("add"), b.array("add"), out.array("add")));
    }

    public Tensor cast(Tensor x, DType outType) {
        checkOwns("Session.cast", x);
        Tensor out = empty(outType, x.shape().dims());
        return runInto(out, () -> backend.ops().cast(x.array("cast"), out.array("cast")));
    }

    /** One F32 value per row of x viewed as [rows, last dimension]. */
    public Tensor rowReduce(Tensor x, RowReduction reduction) {
        checkOwns("Session.rowReduce", x);
        Tensor out = empty(DType.F32, x.shape().rows());
        return runInto(out, () -> backend.ops().rowReduce(x.array("rowReduce"), reduction, out.array("rowReduce")));
    }

    /**
     * Ties {@code resource} (a layer, a model) to this session: closing the session closes it first, before the
     * tensors and the backend. Closing it earlier is fine; its {@code close()} must be idempotent.
     */
    public synchronized <T extends AutoCloseable> T own(T resource) {
        checkOpen("Session.own");
        resources.add(resource);
        return resource;
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

    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Closes every tensor still open, then the backend. Idempotent. Call it once the session's work has returned: an
     * op still running on another thread may find its tensors freed under it (the CPU backend waits for its own ops
     * in flight, but the tensors are closed first).
     */
    @Override
    public void close() {
        List<Tensor> toClose;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toClose = new ArrayList<>(owned);
            owned.clear();
        }
        RuntimeException failure = null;
        List<AutoCloseable> layers;
        synchronized (this) {
            layers = new ArrayList<>(resources);
            resources.clear();
        }
        for (int i = layers.size() - 1; i >= 0; i--) {
            try {
                layers.get(i).close();
            } catch (Exception e) {
                RuntimeException r = e instanceof RuntimeException re ? re
                        : new org.lacuna.runtime.error.LacunaException(org.lacuna.runtime.error.ErrorCode.INTERNAL, "Session.close", e.toString(), e);
                failure = failure == null ? r : addSuppressed(failure, r);
            }
        }
        for (Tensor tensor : toClose) {
            try {
                tensor.closeStorage();
            } catch (RuntimeException e) {
                failure = failure == null ? e : addSuppressed(failure, e);
            }
        }
        try {
            backend.close();
        } catch (RuntimeException e) {
            failure = failure == null ? e : addSuppressed(failure, e);
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static RuntimeException addSuppressed(RuntimeException first, RuntimeException next) {
        first.addSuppressed(next);
        return first;
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

    private synchronized Tensor adopt(DeviceArray array) {
        if (closed) {
            array.buffer().close();
            throw new ResourceClosedException("Session", "session");
        }
        Tensor tensor = new Tensor(this, array, null);
        owned.add(tensor);
        return tensor;
    }

    synchronized void forget(Tensor tensor) {
        owned.remove(tensor);
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

package org.lacuna.api;

import java.util.Arrays;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;

/**
 * A dense, row-major tensor on a session's device. A tensor made by the session owns its memory and belongs to the
 * innermost open {@link Scope} of the thread that made it, else to the session (see {@link Session}); views
 * ({@link #reshape}, {@link #rows}) share it and are invalid once the owner is closed. {@code close()} is idempotent;
 * any use after close (of the tensor, its owner or its session) throws {@link ResourceClosedException}.
 */
public final class Tensor implements AutoCloseable {
    private final Session session;
    private final DeviceArray array;
    private final Tensor owner; // null for the tensor that owns the memory
    private final ClosedFlag closed = new ClosedFlag();
    private volatile Closer holder; // the scope's or session's closer that owns this tensor; null for a view

    Tensor(Session session, DeviceArray array, Tensor owner) {
        this.session = session;
        this.array = array;
        this.owner = owner;
    }

    public DType dtype() {
        return array.dtype();
    }

    public Shape shape() {
        return array.shape();
    }

    /** The backend the data lives on: {@code cpu} or {@code cuda}. */
    public String device() {
        return session.backendName();
    }

    public Session session() {
        return session;
    }

    public boolean isView() {
        return owner != null;
    }

    /** Copies the data to the host as floats (F32, F16 and BF16 tensors). */
    public float[] toFloatArray() {
        return HostData.downloadFloats(session.backendUnchecked(), array("Tensor.toFloatArray"));
    }

    public int[] toIntArray() {
        return HostData.downloadInts(session.backendUnchecked(), array("Tensor.toIntArray"));
    }

    public long[] toLongArray() {
        return HostData.downloadLongs(session.backendUnchecked(), array("Tensor.toLongArray"));
    }

    /** A view with another shape of the same element count, sharing memory. */
    public Tensor reshape(long... dims) {
        DeviceArray a = array("Tensor.reshape");
        Shape shape = Shape.of(dims);
        if (shape.elementCount() != a.elementCount()) {
            throw InvalidInputException.shape("Tensor.reshape", "cannot view " + a.shape() + " (" + a.elementCount()
                    + " elements) as " + shape + " (" + shape.elementCount() + ")");
        }
        return new Tensor(session, new DeviceArray(a.buffer(), a.byteOffset(), a.dtype(), shape), root());
    }

    /** A view of rows {@code [from, to)} along the first dimension, sharing memory. */
    public Tensor rows(long from, long to) {
        DeviceArray a = array("Tensor.rows");
        if (a.shape().rank() == 0) {
            throw InvalidInputException.shape("Tensor.rows", "a scalar has no rows");
        }
        long n = a.shape().dim(0);
        if (from < 0 || to > n || from > to) {
            throw InvalidInputException.shape("Tensor.rows", "rows [" + from + ", " + to + ") outside [0, " + n + ")");
        }
        long[] dims = a.shape().dims();
        long rowElements = n == 0 ? 0 : a.elementCount() / n;
        dims[0] = to - from;
        return new Tensor(session, new DeviceArray(a.buffer(), a.byteOffset() + from * rowElements * a.dtype().byteSize(),
                a.dtype(), Shape.of(dims)), root());
    }

    public boolean isClosed() {
        return closed.isClosed() || (owner != null && owner.closed.isClosed()) || session.isClosed();
    }

    /** Frees the memory (an owning tensor) or just invalidates this view. */
    @Override
    public void close() {
        if (owner == null) {
            Closer h = holder;
            if (h != null) {
                h.remove(this);
            }
            closeStorage();
        } else {
            closed.markClosed();
        }
    }

    void closeStorage() {
        if (closed.markClosed()) {
            array.buffer().close();
        }
    }

    /** The runtime view of this tensor, checked for use after close. */
    public DeviceArray array(String call) {
        if (isClosed()) {
            throw new ResourceClosedException(call, (owner == null ? "tensor " : "view ") + dtype() + shape());
        }
        return array;
    }

    void ownedBy(Closer closer) {
        holder = closer;
    }

    Closer holder() {
        return holder;
    }

    /** The tensor that owns the memory: this one, or the owner of this view. */
    Tensor root() {
        return owner == null ? this : owner;
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype() + " " + Arrays.toString(shape().dims()) + " on " + device() + (isClosed() ? ", closed]" : "]");
    }
}

package org.lacuna.runtime.sparseconv;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;

/**
 * A kernel map's tables held by the backend that built them
 * ({@link org.lacuna.runtime.ops.ConvolutionOps#residentMap}): the [outputs, volume] I32 neighbour table, the
 * [outputs, maskWords] I64 bitmasks, the I64 pair starts [volume + 1] and the offset-major I32 pair inputs and
 * outputs [pairs], as {@link KernelMap} describes them. On the
 * CPU backends these are views of the host map's own arrays (host memory: nothing is copied); on a GPU they are
 * device memory the map kernels wrote. Orders a dataflow derives from them (the implicit GEMM's row orders, the
 * offsets by pair count) are built on the same backend on first request and kept here with the tables.
 *
 * <p>Cached on the map's input {@link CoordinateSet} per backend and freed with it ({@link CoordinateSet#close}):
 * the arrays must not be used after that.
 */
public final class ResidentKernelMap implements AutoCloseable {
    private final KernelMap map;
    private final DeviceArray neighbours;
    private final DeviceArray masks;
    private final DeviceArray pairStart;
    private final DeviceArray pairInputs;
    private final DeviceArray pairOutputs;
    private final Map<String, DeviceArray> derived = new ConcurrentHashMap<>();
    private final List<DeviceArray> owned = new ArrayList<>();
    private final ClosedFlag closed = new ClosedFlag();

    /**
     * Takes over the arrays' buffers (closing the map closes them). Shapes are checked against {@code map}, the
     * host description whose counts the backend sized them by.
     */
    public ResidentKernelMap(KernelMap map, DeviceArray neighbours, DeviceArray masks, DeviceArray pairStart,
                             DeviceArray pairInputs, DeviceArray pairOutputs) {
        this.map = Objects.requireNonNull(map, "map");
        String call = "ResidentKernelMap";
        long rows = map.outputCount();
        this.neighbours = require(call, "neighbours", neighbours, DType.I32, Shape.of(rows, map.volume()));
        this.masks = require(call, "masks", masks, DType.I64, Shape.of(rows, map.maskWords()));
        this.pairStart = require(call, "pairStart", pairStart, DType.I64, Shape.of(map.volume() + 1L));
        this.pairInputs = require(call, "pairInputs", pairInputs, DType.I32, Shape.of(map.totalPairs()));
        this.pairOutputs = require(call, "pairOutputs", pairOutputs, DType.I32, Shape.of(map.totalPairs()));
        owned.addAll(List.of(neighbours, masks, pairStart, pairInputs, pairOutputs));
    }

    private static DeviceArray require(String call, String name, DeviceArray array, DType dtype, Shape shape) {
        Objects.requireNonNull(array, name);
        if (array.dtype() != dtype || !array.shape().equals(shape)) {
            throw InvalidInputException.shape(call, name + " must be " + dtype + " " + shape + ", got "
                    + array.dtype() + " " + array.shape());
        }
        return array;
    }

    /** The host description: geometry, input and output sets, pair counts (what sizes and statistics need). */
    public KernelMap map() {
        return map;
    }

    public DeviceArray neighbours() {
        return open().neighbours;
    }

    public DeviceArray masks() {
        return open().masks;
    }

    public DeviceArray pairStart() {
        return open().pairStart;
    }

    public DeviceArray pairInputs() {
        return open().pairInputs;
    }

    public DeviceArray pairOutputs() {
        return open().pairOutputs;
    }

    /**
     * An array derived from the tables by the backend ({@code name} says which, e.g. a row order), built by
     * {@code build} on first request and then kept and freed with the map.
     */
    public DeviceArray derived(String name, Supplier<DeviceArray> build) {
        DeviceArray known = open().derived.get(name);
        if (known != null) {
            return known;
        }
        synchronized (this) {
            open();
            known = derived.get(name);
            if (known == null) {
                known = Objects.requireNonNull(build.get(), name);
                derived.put(name, known);
                owned.add(known);
            }
            return known;
        }
    }

    public boolean isClosed() {
        return closed.isClosed();
    }

    private synchronized ResidentKernelMap open() {
        if (closed.isClosed()) {
            throw new ResourceClosedException("ResidentKernelMap", "the resident tables of " + map
                    + " (their coordinate set released its device state)");
        }
        return this;
    }

    /** Frees every table and derived array; idempotent. */
    @Override
    public void close() {
        List<DeviceArray> toClose;
        synchronized (this) {
            if (!closed.markClosed()) {
                return;
            }
            toClose = List.copyOf(owned);
            owned.clear();
        }
        Closer.closeAll("ResidentKernelMap", toClose.stream().map(a -> (AutoCloseable) a.buffer()).distinct()
                .toList());
    }

    @Override
    public String toString() {
        return "ResidentKernelMap[" + map + " on " + neighbours.buffer().backendName() + "]";
    }
}

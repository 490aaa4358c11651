package org.lacuna.runtime.sparseconv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.lacuna.runtime.cpu.KernelMapBuilder;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.SparseCoordinates;

/**
 * The coordinates of a sparse tensor with their tensor stride, and every kernel map built on them. Layers that
 * share coordinates share this object, so a map is built once per input and reused by each layer with the same
 * (tensor stride, kernel size, stride, dilation, transposed): the tensor stride is the set's own, the rest is the
 * {@link ConvGeometry} the cache is keyed by. A downsampling's output set remembers where it came from, which is
 * what lets the transposed convolution that undoes it reuse the downsampling map in reverse.
 *
 * <p>The keys and the host maps are the host's description of the coordinates (sizes, statistics, the reference).
 * Each backend that runs layers on the set holds its own state here too: the keys in its memory and the tables of
 * each map ({@link ResidentKernelMap}), built by that backend's {@link org.lacuna.runtime.ops.ConvolutionOps} on
 * first request and cached per geometry. {@link #close} frees that state (the host description stays usable, and a
 * later request builds it again); the sparse tensors on a set hold it with {@link #retain} and {@link #release}, so
 * it is freed when the last of them closes.
 */
public final class CoordinateSet implements AutoCloseable {
    private final long[] keys;
    private final Int3 tensorStride;
    private final Origin origin;
    private final ConcurrentHashMap<ConvGeometry, KernelMap> maps = new ConcurrentHashMap<>();
    private volatile CoordinateIndex index;
    /** Per backend (the op object that built it), the set's keys and maps in that backend's memory. */
    private final Map<Object, Residency> residencies = new IdentityHashMap<>();
    private int holders;

    /** One backend's state: the keys (I64 [size]) and the resident maps by geometry. */
    private static final class Residency {
        private DeviceArray keys;
        private final Map<ConvGeometry, ResidentKernelMap> maps = new HashMap<>();

        private List<AutoCloseable> resources() {
            List<AutoCloseable> out = new ArrayList<>(maps.values());
            if (keys != null) {
                out.add(keys.buffer());
            }
            return out;
        }
    }

    /** A set produced by a strided convolution of {@code fine} with {@code geometry}. */
    public record Origin(CoordinateSet fine, ConvGeometry geometry) {
    }

    private CoordinateSet(long[] keys, Int3 tensorStride, Origin origin) {
        this.keys = keys;
        this.tensorStride = tensorStride;
        this.origin = origin;
    }

    /**
     * Checks {@code coordinates} ([N, 4] rows of batch, x, y, z) and wraps them; fails on an empty set, a row outside
     * the {@link CoordinateKey} range, a row off the tensor-stride grid, or a repeated coordinate.
     */
    public static CoordinateSet of(int[] coordinates, int[] tensorStride) {
        Objects.requireNonNull(coordinates, "coordinates");
        String call = "CoordinateSet.of";
        long[] keys = SparseCoordinates.check(call, coordinates, tensorStride);
        requireNonEmpty(call, keys.length);
        return new CoordinateSet(keys, Int3.positive(call, "tensor stride", tensorStride), null);
    }

    /** As {@link #of} from packed keys (as a voxeliser returns them). */
    public static CoordinateSet ofKeys(long[] keys, int[] tensorStride) {
        Objects.requireNonNull(keys, "keys");
        String call = "CoordinateSet.ofKeys";
        Int3 stride = Int3.positive(call, "tensor stride", tensorStride);
        requireNonEmpty(call, keys.length);
        for (int row = 0; row < keys.length; row++) {
            long key = keys[row];
            if (key == CoordinateKey.EMPTY || CoordinateKey.x(key) % stride.x() != 0
                    || CoordinateKey.y(key) % stride.y() != 0 || CoordinateKey.z(key) % stride.z() != 0) {
                throw InvalidInputException.argument(call, "row " + row + " key " + Long.toHexString(key)
                        + " is the reserved EMPTY key or off the grid of tensor stride " + stride);
            }
        }
        SparseCoordinates.requireDistinct(call, keys);
        return new CoordinateSet(keys.clone(), stride, null);
    }

    /**
     * The output of a downsampling of {@code fine} with {@code geometry}: keys already distinct, sorted and on the
     * coarser grid (the host map builder makes them; nothing else should).
     */
    public static CoordinateSet downsampled(long[] keys, Int3 tensorStride, CoordinateSet fine, ConvGeometry geometry) {
        return new CoordinateSet(keys, tensorStride, new Origin(fine, geometry));
    }

    /** The kernel map of {@code geometry} on these (input) coordinates: built on first use, then cached. */
    public KernelMap kernelMap(ConvGeometry geometry) {
        Objects.requireNonNull(geometry, "geometry");
        KernelMap map = maps.get(geometry);
        if (map == null) {
            // Built outside computeIfAbsent: a transposed map asks the fine set's cache, and a build may be long.
            map = KernelMapBuilder.build(this, geometry);
            KernelMap raced = maps.putIfAbsent(geometry, map);
            map = raced == null ? map : raced;
        }
        return map;
    }

    /**
     * For each row of {@code outputs} and each offset of the forward {@code geometry}, the row of this set at
     * output + offset × dilation × this set's tensor stride, or -1: the [outputs, volume] neighbour table, the
     * reference for device map builders.
     */
    public int[] queryNeighbours(CoordinateSet outputs, ConvGeometry geometry) {
        if (geometry.transposed()) {
            throw InvalidInputException.argument("queryNeighbours", "a transposed map is the reverse of its "
                    + "downsampling map, not a query; use kernelMap");
        }
        return KernelMapBuilder.query(this, outputs, geometry);
    }

    /**
     * The keys (I64 [size], row order) held by {@code backend}: made by {@code make} on first request, then kept
     * until {@link #close}. A backend offers the keys it computed itself (a downsampling's outputs) the same way;
     * if another thread got there first, the made array is freed and the held one returned.
     */
    public DeviceArray residentKeys(Object backend, Supplier<DeviceArray> make) {
        Objects.requireNonNull(backend, "backend");
        synchronized (residencies) {
            Residency r = residencies.get(backend);
            if (r != null && r.keys != null) {
                return r.keys;
            }
        }
        DeviceArray made = Objects.requireNonNull(make.get(), "keys");
        synchronized (residencies) {
            Residency r = residencies.computeIfAbsent(backend, b -> new Residency());
            if (r.keys == null) {
                r.keys = made;
                return made;
            }
        }
        made.buffer().close();
        return residentKeys(backend, make);
    }

    /**
     * The tables of this set's map for {@code geometry} held by {@code backend}: built by {@code build} on first
     * request (outside any lock: a transposed map asks another set), then cached until {@link #close}.
     */
    public ResidentKernelMap residentMap(Object backend, ConvGeometry geometry, Supplier<ResidentKernelMap> build) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(geometry, "geometry");
        synchronized (residencies) {
            Residency r = residencies.get(backend);
            ResidentKernelMap known = r == null ? null : r.maps.get(geometry);
            if (known != null) {
                return known;
            }
        }
        ResidentKernelMap built = Objects.requireNonNull(build.get(), "resident map");
        synchronized (residencies) {
            Residency r = residencies.computeIfAbsent(backend, b -> new Residency());
            ResidentKernelMap raced = r.maps.putIfAbsent(geometry, built);
            if (raced == null) {
                return built;
            }
            built.close();
            return raced;
        }
    }

    /** How many maps {@code backend} holds for this set, for tests. */
    public int residentMaps(Object backend) {
        synchronized (residencies) {
            Residency r = residencies.get(backend);
            return r == null ? 0 : r.maps.size();
        }
    }

    /** Whether any backend holds state for this set, for tests. */
    public boolean isResident() {
        synchronized (residencies) {
            return !residencies.isEmpty();
        }
    }

    /** One more holder (a sparse tensor on this set). */
    public void retain() {
        synchronized (residencies) {
            holders++;
        }
    }

    /** One holder fewer; the last one frees every backend's state ({@link #close}). */
    public void release() {
        boolean last;
        synchronized (residencies) {
            holders = Math.max(0, holders - 1);
            last = holders == 0;
        }
        if (last) {
            close();
        }
    }

    /**
     * Frees the keys and maps every backend holds for this set (idempotent). The host keys and host maps stay: a
     * later request builds the backend's state again.
     */
    @Override
    public void close() {
        List<AutoCloseable> resources = new ArrayList<>();
        synchronized (residencies) {
            residencies.values().forEach(r -> resources.addAll(r.resources()));
            residencies.clear();
        }
        Closer.closeAll("CoordinateSet", resources);
    }

    /** How many maps are cached, for tests and statistics. */
    public int cachedMaps() {
        return maps.size();
    }

    public int size() {
        return keys.length;
    }

    public Int3 tensorStride() {
        return tensorStride;
    }

    public long key(int row) {
        return keys[row];
    }

    /** A copy of the keys in row order. */
    public long[] keys() {
        return keys.clone();
    }

    /**
     * The keys in row order as read-only memory over the set's own array, not a copy: for the CPU backends, whose
     * resident keys it is.
     */
    public java.lang.foreign.MemorySegment keyMemory() {
        return java.lang.foreign.MemorySegment.ofArray(keys).asReadOnly();
    }

    /** [N, 4] rows of (batch, x, y, z). */
    public int[] coordinates() {
        int[] out = new int[4 * keys.length];
        for (int row = 0; row < keys.length; row++) {
            long key = keys[row];
            out[4 * row] = CoordinateKey.batch(key);
            out[4 * row + 1] = CoordinateKey.x(key);
            out[4 * row + 2] = CoordinateKey.y(key);
            out[4 * row + 3] = CoordinateKey.z(key);
        }
        return out;
    }

    /**
     * Writes into {@code out[at, at + deltas.length / 3)} the row of each neighbour of {@code key} at the given
     * (x, y, z) deltas, or -1 where there is none; a neighbour whose coordinate leaves the key range does not exist,
     * exactly as one that is not in the set. The one neighbour query every kernel-map builder runs per output row.
     */
    public void findNeighbours(long key, int[] deltas, int[] out, int at) {
        int b = CoordinateKey.batch(key);
        int x = CoordinateKey.x(key);
        int y = CoordinateKey.y(key);
        int z = CoordinateKey.z(key);
        for (int v = 0, volume = deltas.length / 3; v < volume; v++) {
            long nx = (long) x + deltas[3 * v];
            long ny = (long) y + deltas[3 * v + 1];
            long nz = (long) z + deltas[3 * v + 2];
            out[at + v] = CoordinateKey.fitsCoordinate(nx) && CoordinateKey.fitsCoordinate(ny)
                    && CoordinateKey.fitsCoordinate(nz) ? find(CoordinateKey.pack(b, (int) nx, (int) ny, (int) nz)) : -1;
        }
    }

    /** The row of {@code key}, or -1. */
    public int find(long key) {
        return index().find(key);
    }

    /** The finer set and geometry this set was downsampled from, or null for a set made from coordinates. */
    public Origin origin() {
        return origin;
    }

    private CoordinateIndex index() {
        CoordinateIndex built = index;
        if (built == null) {
            synchronized (this) {
                built = index;
                if (built == null) {
                    built = new CoordinateIndex(keys);
                    index = built;
                }
            }
        }
        return built;
    }

    private static void requireNonEmpty(String call, int count) {
        if (count == 0) {
            throw InvalidInputException.shape(call, "the coordinate set is empty: a sparse convolution needs at "
                    + "least one point");
        }
    }

    @Override
    public String toString() {
        return "CoordinateSet[" + keys.length + " coordinates, tensor stride " + tensorStride
                + (origin == null ? "" : ", from " + origin.geometry()) + ", " + maps.size() + " maps "
                + Arrays.toString(maps.keySet().toArray()) + "]";
    }
}

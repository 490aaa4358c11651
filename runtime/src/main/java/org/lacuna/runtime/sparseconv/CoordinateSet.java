package org.lacuna.runtime.sparseconv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
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
 * first request and cached per geometry under the backend's {@link BackendResidency}.
 *
 * <p>Who frees that state (the ownership rule):
 * <ul>
 * <li>The set's holders (the sparse tensors on it, {@link #retain}/{@link #release}): the last release frees every
 *     backend's state here ({@link #close}, which anyone may also call; the host description stays usable and a
 *     later request builds the state again).</li>
 * <li>A build on this set that makes state on another set (a map's output keys, a downsampled set's finer keys)
 *     does so inside {@link #borrowing}: the other set is held for the build, and what the build left on it belongs
 *     to this set from then on while the other set has no holders of its own. Closing this set closes the other set
 *     too unless someone holds it; if it is held, its own last release frees it. So every array made on a set is
 *     freed by that set's close, its last holder's release, or the close of a set that needed it.</li>
 * <li>The backend: closing its {@link BackendResidency} drops its entry from every set (other backends' stay).</li>
 * </ul>
 * Builds run outside the lock; a close that runs while one is in flight moves the set to a new epoch, and a build
 * from an older epoch is never cached: its arrays are freed and it is built again if the set is still held (an
 * explicit {@link #close} under live holders), or it fails with a {@link ResourceClosedException} if the set has no
 * holder left (its last holder closed while a layer still ran on it).
 */
public final class CoordinateSet implements AutoCloseable {
    private final long[] keys;
    private final Int3 tensorStride;
    private final Origin origin;
    private final ConcurrentHashMap<ConvGeometry, KernelMap> maps = new ConcurrentHashMap<>();
    private volatile CoordinateIndex index;
    /** Guards the residency state below. */
    private final Object lock = new Object();
    /** Per backend, the set's keys and maps in that backend's memory. */
    private final Map<BackendResidency, Residency> residencies = new IdentityHashMap<>();
    /** Sets whose state a build on this set made and that this set frees when it closes (if nobody holds them). */
    private final Set<CoordinateSet> borrowed = Collections.newSetFromMap(new IdentityHashMap<>());
    private int holders;
    /** Counts the closes: a build started in an earlier epoch is not cached. */
    private long epoch;

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
     * if another thread got there first, the made array is freed and the held one returned. A {@code make} that
     * needs another set's state runs it in {@link #borrowing}.
     *
     * @throws ResourceClosedException if the set's last holder released it while the keys were made (they are freed)
     *                                 or the backend closed
     */
    public DeviceArray residentKeys(BackendResidency backend, Supplier<DeviceArray> make) {
        Objects.requireNonNull(backend, "backend");
        return resident(backend, "keys", r -> r.keys, make, (r, made) -> {
            if (r.keys != null) {
                return r.keys;
            }
            r.keys = made;
            return null;
        }, made -> made.buffer().close());
    }

    /**
     * The tables of this set's map for {@code geometry} held by {@code backend}: built by {@code build} on first
     * request (outside any lock: a transposed map asks another set, in {@link #borrowing}), then cached until
     * {@link #close}; as {@link #residentKeys} when a close or another build races it.
     */
    public ResidentKernelMap residentMap(BackendResidency backend, ConvGeometry geometry,
                                         Supplier<ResidentKernelMap> build) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(geometry, "geometry");
        return resident(backend, "the map " + geometry, r -> r.maps.get(geometry), build,
                (r, built) -> r.maps.putIfAbsent(geometry, built), ResidentKernelMap::close);
    }

    /**
     * One piece of {@code backend}'s state here ({@link #residentKeys}, {@link #residentMap}): the one {@code held}
     * reads, else one {@code make} builds outside the lock and {@code keepIfAbsent} keeps, unless another build kept
     * one first (then that one is returned and the made one freed), the set lost its last holder meanwhile (freed,
     * refused) or the backend closed (freed, refused).
     *
     * @param what         names the state in a refusal, e.g. {@code "keys"}
     * @param keepIfAbsent keeps the made state unless the residency holds one already, which it returns (else null)
     */
    private <T> T resident(BackendResidency backend, String what, Function<Residency, T> held, Supplier<T> make,
                           BiFunction<Residency, T, T> keepIfAbsent, Consumer<T> free) {
        while (true) {
            long started;
            synchronized (lock) {
                Residency r = residencies.get(backend);
                T known = r == null ? null : held.apply(r);
                if (known != null) {
                    return known;
                }
                started = epoch;
            }
            T made = Objects.requireNonNull(make.get(), what);
            T raced = null;
            RuntimeException refused = null;
            synchronized (lock) {
                if (epoch != started) {
                    refused = holders > 0 ? null : closedWhileBuilding(backend, what);
                } else {
                    Residency r = residency(backend);
                    if (r == null) {
                        refused = backendClosed(backend);
                    } else {
                        raced = keepIfAbsent.apply(r, made);
                        if (raced == null) {
                            return made;
                        }
                    }
                }
            }
            free.accept(made);
            if (raced != null) {
                return raced;
            }
            if (refused != null) {
                throw refused;
            }
            // A close ran during the build but the set is still held: build again in the new epoch.
        }
    }

    /** A build whose set lost its last holder (and so its state) while it ran: its result has no owner. */
    private RuntimeException closedWhileBuilding(BackendResidency backend, String what) {
        return new ResourceClosedException("CoordinateSet", "the coordinate set " + this + " (released by its last "
                + "holder while " + what + " for " + backend + " were being built)");
    }

    private static RuntimeException backendClosed(BackendResidency backend) {
        return new ResourceClosedException("CoordinateSet", "the backend of " + backend);
    }

    /** Under the lock: the backend's residency here, made and recorded with the backend if new; null if it closed. */
    private Residency residency(BackendResidency backend) {
        Residency r = residencies.get(backend);
        if (r == null && backend.register(this)) {
            r = new Residency();
            residencies.put(backend, r);
        }
        return r;
    }

    /**
     * Runs {@code use}, a build on this set that reads or makes state on {@code other} (a map's output set, a
     * downsampled set's finer set), with {@code other} held so that nothing frees it meanwhile; afterwards this set
     * answers for what was left on {@code other}: closing this set closes {@code other} as well unless it has holders
     * then. If this set closed during {@code use}, {@code other} is closed now unless held.
     */
    public <T> T borrowing(CoordinateSet other, Supplier<T> use) {
        Objects.requireNonNull(other, "other");
        Objects.requireNonNull(use, "use");
        if (other == this) {
            return use.get();
        }
        long started;
        synchronized (lock) {
            started = epoch;
        }
        other.retain();
        try {
            return use.get();
        } finally {
            other.unpin();
            boolean kept;
            synchronized (lock) {
                kept = epoch == started;
                if (kept) {
                    borrowed.add(other);
                }
            }
            if (!kept) {
                other.free(true);
            }
        }
    }

    /** Whether any backend holds state for this set, for tests. */
    public boolean isResident() {
        synchronized (lock) {
            return !residencies.isEmpty();
        }
    }

    /** One more holder (a sparse tensor on this set). */
    public void retain() {
        synchronized (lock) {
            holders++;
        }
    }

    /** One holder fewer; the last one frees every backend's state ({@link #close}). */
    public void release() {
        boolean last;
        synchronized (lock) {
            holders = Math.max(0, holders - 1);
            last = holders == 0;
        }
        if (last) {
            close();
        }
    }

    /** The end of a {@link #borrowing} hold: one holder fewer, without closing (the borrower answers for it). */
    private void unpin() {
        synchronized (lock) {
            holders = Math.max(0, holders - 1);
        }
    }

    /**
     * Frees the keys and maps every backend holds for this set, and the state its builds left on sets nobody holds
     * (idempotent). The host keys and host maps stay: a later request builds the backend's state again.
     */
    @Override
    public void close() {
        free(false);
    }

    /** {@link #close}, or with {@code onlyIfUnheld} nothing if the set has holders (checked with the collection). */
    private void free(boolean onlyIfUnheld) {
        List<AutoCloseable> resources = new ArrayList<>();
        synchronized (lock) {
            if (onlyIfUnheld && holders > 0) {
                return;
            }
            epoch++;
            for (Map.Entry<BackendResidency, Residency> e : residencies.entrySet()) {
                resources.addAll(e.getValue().resources());
                BackendResidency backend = e.getKey();
                resources.add(() -> backend.unregister(this));
            }
            residencies.clear();
            for (CoordinateSet other : borrowed) {
                resources.add(() -> other.free(true));
            }
            borrowed.clear();
        }
        Closer.closeAll("CoordinateSet", resources);
    }

    /** Drops {@code backend}'s state (the backend is closing), leaving other backends' entries. */
    void drop(BackendResidency backend) {
        Residency r;
        synchronized (lock) {
            r = residencies.remove(backend);
        }
        if (r != null) {
            Closer.closeAll("CoordinateSet", r.resources());
        }
    }

    /** How many backends hold state for this set, for tests. */
    public int residentBackends() {
        synchronized (lock) {
            return residencies.size();
        }
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
        return CoordinateKey.unpackRows(keys);
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

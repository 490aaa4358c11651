package org.lacuna.runtime.sparseconv;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.SparseCoordinates;

/**
 * The coordinates of a sparse tensor with their tensor stride, and every kernel map built on them. Layers that
 * share coordinates share this object, so a map is built once per input and reused by each layer with the same
 * (tensor stride, kernel size, stride, dilation, transposed): the tensor stride is the set's own, the rest is the
 * {@link ConvGeometry} the cache is keyed by. A downsampling's output set remembers where it came from, which is
 * what lets the transposed convolution that undoes it reuse the downsampling map in reverse.
 */
public final class CoordinateSet {
    private final long[] keys;
    private final Int3 tensorStride;
    private final Origin origin;
    private final ConcurrentHashMap<ConvGeometry, KernelMap> maps = new ConcurrentHashMap<>();
    private volatile CoordinateIndex index;

    /** A set produced by a strided convolution of {@code fine} with {@code geometry}. */
    record Origin(CoordinateSet fine, ConvGeometry geometry) {
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

    /** The output of a downsampling: keys already distinct, sorted and on the coarser grid. */
    static CoordinateSet downsampled(long[] keys, Int3 tensorStride, CoordinateSet fine, ConvGeometry geometry) {
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

    Origin origin() {
        return origin;
    }

    long[] keysView() {
        return keys;
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

package org.lacuna.api.pointcloud;

import java.util.Arrays;
import java.util.Objects;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.ResidentVoxels;
import org.lacuna.runtime.pointcloud.SparseCoordinates;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.sparseconv.CoordinateSet;

/**
 * A sparse 3-D tensor on a session's device: N distinct integer coordinates (batch, x, y, z) as an I32 [N, 4]
 * tensor, their features as an [N, C] tensor, and the tensor stride (the spacing of the coordinate grid per axis;
 * 1 for freshly voxelised data, growing with strided convolutions). Coordinates fit
 * {@link org.lacuna.runtime.pointcloud.CoordinateKey} and are multiples of the stride.
 *
 * <p>Both tensors belong to the session, so closing the session frees them; {@link #close()} frees them earlier and
 * is idempotent. Any use of the tensors after close throws {@link ResourceClosedException}.
 *
 * <p>The coordinates live with the features: a tensor made from host data (or a voxeliser's output) brings its
 * coordinate set's keys to the session's backend with the input upload, and every layer after that finds them, and
 * builds and caches its kernel maps, there ({@link org.lacuna.runtime.ops.ConvolutionOps#residentMap}); a layer's
 * output shares its input's set or the set its strided map produced on the device. Each tensor holds its set
 * ({@link CoordinateSet#retain}); when the last tensor on a set closes, the backend's keys and maps for it are freed.
 */
public final class SparseTensor implements AutoCloseable {
    /** For a layer's output, made on first request on the backend from the keys it holds for the coordinate set. */
    private volatile Tensor coordinates;
    private final Tensor features;
    private final int[] tensorStride;
    private final ClosedFlag closed = new ClosedFlag();

    /** Built on first use and shared by every layer applied to these coordinates, with its cached kernel maps. */
    private volatile CoordinateSet coordinateSet;

    private SparseTensor(Tensor coordinates, Tensor features, int[] tensorStride) {
        this.coordinates = coordinates;
        this.features = features;
        this.tensorStride = tensorStride;
    }

    /**
     * Uploads host data after checking it.
     *
     * @param coordinates [N, 4] row-major (batch, x, y, z), N >= 1, no coordinate twice
     * @param features    [N, channels] row-major
     * @param featureType F32, F16 or BF16
     * @param tensorStride the grid spacing per axis (x, y, z); none given means 1, 1, 1 (freshly voxelised data)
     */
    public static SparseTensor of(Session session, int[] coordinates, float[] features, int channels, DType featureType,
                                  int... tensorStride) {
        String call = "SparseTensor.of";
        if (coordinates == null || features == null) {
            throw InvalidInputException.argument(call, coordinates == null ? "coordinates are null" : "features are null");
        }
        tensorStride = strideOrUnit(tensorStride);
        long n = checkShapes(call, coordinates.length, features.length, channels);
        SparseCoordinates.check(call, coordinates, tensorStride);
        // The set is made from the host copy, so no layer downloads the coordinates again.
        CoordinateSet set = CoordinateSet.of(coordinates, tensorStride);
        SparseTensor tensor = upload(call, session, coordinates, features, n, channels, featureType, tensorStride);
        return tensor.holding(set, true);
    }

    /**
     * The voxels of a cloud voxelised on the host with the chosen per-voxel values as features, at tensor stride 1:
     * the features and coordinates are uploaded. {@link #voxelize} keeps them where the backend voxelised them.
     */
    public static SparseTensor fromVoxels(Session session, VoxelizedCloud voxels, VoxelFeatures features,
                                          DType featureType) {
        String call = "SparseTensor.fromVoxels";
        float[] values = voxels.features(features);
        int channels = voxels.featureWidth(features);
        // A VoxelizedCloud's keys are checked distinct and in range when it is made; nothing to re-check here. The
        // coordinate set comes from the same keys, so the first layer needs no download to find its kernel maps.
        SparseTensor tensor = upload(call, session, voxels.coordinates(), values, voxels.voxelCount(), channels,
                featureType, voxels.tensorStride());
        return tensor.holding(CoordinateSet.ofKeys(voxels.keys(), voxels.tensorStride()), true);
    }

    /**
     * Voxelises {@code cloud} through the session's voxelisation op (the GPU's matches the CPU's), where the backend
     * keeps the voxels ({@link org.lacuna.runtime.ops.VoxelizationOps#voxelizeResident}): the features and the
     * backend's keys stay there, the keys come to the host once as the coordinate set's description (on a GPU), and
     * nothing is uploaded after the points.
     */
    public static SparseTensor voxelize(Session session, PointCloud cloud, Voxelization voxelization,
                                        VoxelFeatures features, DType featureType) {
        Objects.requireNonNull(session, "session");
        if (session.isClosed()) {
            throw new ResourceClosedException("SparseTensor.voxelize", "session");
        }
        try (ResidentVoxels voxels = session.backend().ops().voxelization().voxelizeResident(cloud, voxelization,
                features, featureType)) {
            return fromVoxels(session, voxels);
        }
    }

    /**
     * The voxels a backend voxelised in its own memory, taken over without a copy: the features become this tensor's,
     * the keys the coordinate set's resident keys on that backend ({@link
     * org.lacuna.runtime.ops.ConvolutionOps#adoptCoordinateKeys}); the host keys describe the set. The coordinates
     * tensor is made on the backend from the keys if someone asks for it. {@code voxels} gives up both arrays.
     */
    public static SparseTensor fromVoxels(Session session, ResidentVoxels voxels) {
        String call = "SparseTensor.fromVoxels";
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(voxels, "voxels");
        // Checked on the host: distinct keys on the stride-1 grid (a backend's voxeliser must not get this wrong).
        CoordinateSet set = CoordinateSet.ofKeys(voxels.keys(), voxels.tensorStride());
        Tensor features = session.adopt(voxels.takeFeatures());
        SparseTensor tensor;
        try {
            tensor = new SparseTensor(null, features, voxels.tensorStride()).holding(set, false);
        } catch (RuntimeException e) {
            features.close(); // not left registered with the session until it closes
            throw e;
        }
        try {
            session.backend().ops().convolution().adoptCoordinateKeys(set, voxels.takeKeys());
            return tensor;
        } catch (RuntimeException e) {
            tensor.close();
            throw e;
        }
    }

    /**
     * Wraps tensors already on the device, after checking them; the sparse tensor takes them over (closing it
     * closes them). The check downloads the coordinates once. No stride given means 1, 1, 1.
     */
    public static SparseTensor fromTensors(Tensor coordinates, Tensor features, int... tensorStride) {
        String call = "SparseTensor.fromTensors";
        if (coordinates == null || features == null) {
            throw InvalidInputException.argument(call, coordinates == null ? "coordinates are null" : "features are null");
        }
        tensorStride = strideOrUnit(tensorStride);
        if (coordinates.isClosed() || features.isClosed()) {
            throw new ResourceClosedException(call,
                    coordinates.isClosed() ? "the coordinates tensor" : "the features tensor");
        }
        if (coordinates.session() != features.session()) {
            throw InvalidInputException.argument(call, "coordinates and features belong to different sessions");
        }
        if (coordinates.dtype() != DType.I32) {
            throw InvalidInputException.dtype(call, "coordinates must be I32, not " + coordinates.dtype());
        }
        if (!features.dtype().isFloatingPoint()) {
            throw InvalidInputException.dtype(call, "features must be F32, F16 or BF16, not " + features.dtype());
        }
        long[] c = coordinates.shape().dims();
        long[] f = features.shape().dims();
        if (c.length != 2 || c[1] != 4) {
            throw InvalidInputException.shape(call, "coordinates must be [N, 4] (batch, x, y, z), not "
                    + Arrays.toString(c));
        }
        if (f.length != 2 || f[0] != c[0]) {
            throw InvalidInputException.shape(call, "features must be [N, C] with N = " + c[0] + " coordinates, not "
                    + Arrays.toString(f));
        }
        checkShapes(call, c[0] * 4, f[0] * f[1], f[1]);
        CoordinateSet set = CoordinateSet.of(coordinates.toIntArray(), tensorStride);
        return new SparseTensor(coordinates, features, tensorStride.clone()).holding(set, true);
    }

    /** The stride of freshly voxelised data when the caller gives none; a given one is checked as it is. */
    private static int[] strideOrUnit(int[] tensorStride) {
        return tensorStride == null || tensorStride.length == 0 ? new int[] {1, 1, 1} : tensorStride;
    }

    private static long checkShapes(String call, long coordinateValues, long featureValues, long channels) {
        if (coordinateValues % 4 != 0) {
            throw InvalidInputException.shape(call, coordinateValues + " coordinate values are not rows of 4 (batch,"
                    + " x, y, z)");
        }
        long n = coordinateValues / 4;
        if (n == 0) {
            throw InvalidInputException.shape(call, "no coordinates: a sparse tensor holds at least one");
        }
        if (channels < 1) {
            throw InvalidInputException.shape(call, "features need at least one channel, not " + channels);
        }
        if (featureValues != n * channels) {
            throw InvalidInputException.shape(call, "channel mismatch: " + featureValues + " feature values for " + n
                    + " coordinates × " + channels + " channels (" + n * channels + " expected)");
        }
        return n;
    }

    private static SparseTensor upload(String call, Session session, int[] coordinates, float[] features, long n,
                                       int channels, DType featureType, int[] tensorStride) {
        if (session == null) {
            throw InvalidInputException.argument(call, "the session is null");
        }
        int[] stride = SparseCoordinates.checkTensorStride(call, tensorStride);
        if (featureType == null || !featureType.isFloatingPoint()) {
            throw InvalidInputException.dtype(call, "features must be F32, F16 or BF16, not " + featureType);
        }
        if (session.isClosed()) {
            throw new ResourceClosedException(call, "session");
        }
        Tensor coordinateTensor = session.fromInts(coordinates, n, 4);
        try {
            return new SparseTensor(coordinateTensor, session.fromFloats(features, featureType, n, channels), stride);
        } catch (RuntimeException e) {
            coordinateTensor.close();
            throw e;
        }
    }

    /**
     * A sparse tensor on coordinates a layer already holds as a checked set (a layer's output): takes over
     * {@code features} [set size, C] and keeps the set, so the next layer finds its maps. Nothing is copied: the
     * coordinates tensor is made on the device from the set's keys only if {@link #coordinates()} asks for it.
     */
    public static SparseTensor onCoordinateSet(CoordinateSet set, Tensor features) {
        String call = "SparseTensor.onCoordinateSet";
        Objects.requireNonNull(set, "set");
        Objects.requireNonNull(features, "features");
        long[] f = features.shape().dims();
        if (f.length != 2 || f[0] != set.size()) {
            throw InvalidInputException.shape(call, "features must be [" + set.size() + ", C], not " + Arrays.toString(f));
        }
        // No upload: the backend holds the set's keys already (the input's, or those its strided map computed).
        return new SparseTensor(null, features, set.tensorStride().toArray()).holding(set, false);
    }

    /**
     * Takes hold of {@code set}; with {@code bringKeys}, also brings its keys to the session's backend now, as part
     * of making this tensor (an input), so that no layer has to. Closes this tensor if that fails.
     */
    private SparseTensor holding(CoordinateSet set, boolean bringKeys) {
        set.retain();
        coordinateSet = set;
        if (bringKeys) {
            try {
                features.session().backend().ops().convolution().coordinateKeys(set);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }
        return this;
    }

    /** The checked coordinate set behind this tensor, with its kernel-map cache: built once, from one download. */
    public CoordinateSet coordinateSet() {
        CoordinateSet set = coordinateSet;
        if (set == null) {
            synchronized (this) {
                if (coordinateSet == null) {
                    holding(CoordinateSet.of(coordinates().toIntArray(), tensorStride()), false);
                }
                set = coordinateSet;
            }
        }
        return set;
    }

    /**
     * I32 [N, 4]: (batch, x, y, z) per row; for a layer's output, made on first use on the device from the keys the
     * backend holds for its coordinate set (no upload).
     */
    public Tensor coordinates() {
        checkOpen("SparseTensor.coordinates");
        Tensor made = coordinates;
        if (made == null) {
            synchronized (this) {
                if (coordinates == null) {
                    coordinates = coordinatesFromKeys(coordinateSet);
                }
                made = coordinates;
            }
        }
        return made;
    }

    /** The set's keys, which the backend holds, unpacked on the backend into a new I32 [N, 4] tensor. */
    private Tensor coordinatesFromKeys(CoordinateSet set) {
        String call = "SparseTensor.coordinates";
        Session session = features.session();
        var ops = session.backend().ops().convolution();
        Tensor made = session.empty(DType.I32, set.size(), 4);
        try {
            ops.unpackCoordinates(ops.coordinateKeys(set), made.array(call));
            return made;
        } catch (RuntimeException e) {
            made.close();
            throw e;
        }
    }

    /** [N, C] in the feature type. */
    public Tensor features() {
        checkOpen("SparseTensor.features");
        return features;
    }

    /** The grid spacing per axis (x, y, z). */
    public int[] tensorStride() {
        return tensorStride.clone();
    }

    /** N, the number of coordinates. */
    public long size() {
        return features.shape().dim(0);
    }

    /** C, the number of feature channels. */
    public long channels() {
        return features.shape().dim(1);
    }

    public DType featureType() {
        return features.dtype();
    }

    public Session session() {
        return features.session();
    }

    public boolean isClosed() {
        Tensor c = coordinates;
        return closed.isClosed() || (c != null && c.isClosed()) || features.isClosed();
    }

    /** Frees both tensors. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed.markClosed()) {
            return;
        }
        try {
            Tensor c = coordinates;
            if (c != null) {
                c.close();
            }
        } finally {
            try {
                features.close();
            } finally {
                CoordinateSet set = coordinateSet;
                if (set != null) {
                    set.release();
                }
            }
        }
    }

    private void checkOpen(String call) {
        if (isClosed()) {
            throw new ResourceClosedException(call, "sparse tensor");
        }
    }

    @Override
    public String toString() {
        return "SparseTensor[" + size() + " coordinates, " + channels() + " " + featureType() + " channels, stride "
                + Arrays.toString(tensorStride) + " on " + features.device() + (isClosed() ? ", closed]" : "]");
    }
}

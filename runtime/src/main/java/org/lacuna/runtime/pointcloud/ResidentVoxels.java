package org.lacuna.runtime.pointcloud;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;

/**
 * The voxels of a cloud where the backend that voxelised them keeps them, ready to become a sparse tensor's input
 * without an upload: the keys (I64 [M], {@link CoordinateKey} order) and the chosen features ([M, width] of the
 * feature type) in the backend's memory (device memory on a GPU, the backend's own host memory on the CPU), with the
 * keys also on the host, the coordinate set's description from which every size and kernel map is derived. What
 * {@link org.lacuna.runtime.ops.VoxelizationOps#voxelizeResident} returns; the same voxels, keys and features as
 * {@link VoxelizedCloud#keys} and {@link VoxelizedCloud#features} of the host voxelisation, bit for bit.
 *
 * <p>Owns its two arrays until a consumer takes them ({@link #takeKeys}, {@link #takeFeatures}: ownership moves
 * with them); {@link #close} frees what was not taken, and is idempotent.
 */
public final class ResidentVoxels implements AutoCloseable {
    private final Voxelization voxelization;
    private final VoxelFeatures selection;
    private final long[] keys;
    private final int pointCount;
    private final DType featureType;
    private final long width;
    private DeviceArray residentKeys;
    private DeviceArray features;
    private final ClosedFlag closed = new ClosedFlag();

    /**
     * Takes over {@code residentKeys} and {@code features} (freed by {@link #close} unless taken), after checking
     * that they describe {@code keys.length} voxels; on a failed check they are freed.
     *
     * @param keys         the M keys on the host, strictly increasing in {@link CoordinateKey#compare} order
     * @param residentKeys the same keys in the backend's memory, I64 [M]
     * @param features     [M, width] of F32, F16 or BF16: the {@code selection} of the voxels' values
     * @param pointCount   how many points were voxelised
     */
    public ResidentVoxels(Voxelization voxelization, VoxelFeatures selection, long[] keys, DeviceArray residentKeys,
                          DeviceArray features, int pointCount) {
        String call = "ResidentVoxels";
        try {
            this.voxelization = Objects.requireNonNull(voxelization, "voxelization");
            this.selection = Objects.requireNonNull(selection, "selection");
            this.keys = Objects.requireNonNull(keys, "keys");
            Objects.requireNonNull(residentKeys, "residentKeys");
            Objects.requireNonNull(features, "features");
            int m = keys.length;
            if (residentKeys.dtype() != DType.I64 || residentKeys.shape().rank() != 1
                    || residentKeys.shape().dim(0) != m) {
                throw InvalidInputException.shape(call, m + " voxels need resident keys I64 [" + m + "], got "
                        + residentKeys.dtype() + residentKeys.shape());
            }
            if (!features.dtype().isFloatingPoint() || features.shape().rank() != 2
                    || features.shape().dim(0) != m) {
                throw InvalidInputException.shape(call, m + " voxels need features [" + m + ", C] of F32, F16 or "
                        + "BF16, got " + features.dtype() + features.shape());
            }
            for (int v = 1; v < m; v++) {
                if (CoordinateKey.compare(keys[v - 1], keys[v]) >= 0) {
                    throw InvalidInputException.argument(call, "voxel keys are not strictly increasing at voxel " + v
                            + ": " + CoordinateKey.describe(keys[v - 1]) + " then " + CoordinateKey.describe(keys[v]));
                }
            }
            this.pointCount = pointCount;
            this.featureType = features.dtype();
            this.width = features.shape().dim(1);
            this.residentKeys = residentKeys;
            this.features = features;
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, buffers(residentKeys, features).toArray(AutoCloseable[]::new));
        }
    }

    public Voxelization voxelization() {
        return voxelization;
    }

    /** Which of the voxels' values the features are. */
    public VoxelFeatures selection() {
        return selection;
    }

    public int voxelCount() {
        return keys.length;
    }

    public int pointCount() {
        return pointCount;
    }

    /** The voxels' keys on the host, ascending (a copy). */
    public long[] keys() {
        return keys.clone();
    }

    public DType featureType() {
        return featureType;
    }

    /** The features' columns. */
    public long featureWidth() {
        return width;
    }

    /** The voxels' coordinates are in voxel units: stride 1 on every axis. */
    public int[] tensorStride() {
        return new int[] {1, 1, 1};
    }

    /** The features in the backend's memory, still owned by this result (freed when it closes unless taken). */
    public synchronized DeviceArray features() {
        return available("ResidentVoxels.features", features, "features");
    }

    /** The keys in the backend's memory; the caller owns them from now on (a second take fails). */
    public synchronized DeviceArray takeKeys() {
        DeviceArray out = available("ResidentVoxels.takeKeys", residentKeys, "keys");
        residentKeys = null;
        return out;
    }

    /** The features in the backend's memory; the caller owns them from now on (a second take fails). */
    public synchronized DeviceArray takeFeatures() {
        DeviceArray out = available("ResidentVoxels.takeFeatures", features, "features");
        features = null;
        return out;
    }

    private DeviceArray available(String call, DeviceArray array, String what) {
        boolean voxelsClosed = closed.isClosed();
        if (voxelsClosed || array == null) {
            throw new ResourceClosedException(call, voxelsClosed ? "the resident voxels"
                    : "the " + what + " (taken already)");
        }
        return array;
    }

    /** Frees the arrays nobody took. */
    @Override
    public void close() {
        List<AutoCloseable> left;
        synchronized (this) {
            if (!closed.markClosed()) {
                return;
            }
            left = buffers(residentKeys, features);
            residentKeys = null;
            features = null;
        }
        Closer.closeAll("ResidentVoxels", left);
    }

    /** The buffers of the arrays given (nulls skipped). */
    private static List<AutoCloseable> buffers(DeviceArray... arrays) {
        List<AutoCloseable> out = new ArrayList<>();
        for (DeviceArray array : arrays) {
            if (array != null) {
                out.add(array.buffer());
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "ResidentVoxels[" + pointCount + " points -> " + keys.length + " voxels, " + selection + " as "
                + featureType + " [" + keys.length + ", " + width + "], " + voxelization + "]";
    }
}

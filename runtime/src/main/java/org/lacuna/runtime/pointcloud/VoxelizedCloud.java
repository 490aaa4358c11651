package org.lacuna.runtime.pointcloud;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * The occupied voxels of a cloud: M distinct coordinates in {@link CoordinateKey} order, each with its reduced
 * position and channels, its point count, and for every input point the voxel it fell into (to carry per-voxel
 * results back to the points). Coordinates are in voxel units, i.e. at tensor stride 1. Accessors return copies.
 */
public final class VoxelizedCloud {
    private final Voxelization voxelization;
    private final List<String> channelNames;
    private final long[] keys;
    private final float[] positions;
    private final float[] channels;
    private final int[] pointCounts;
    private final int[] pointToVoxel;

    /**
     * Takes the arrays over (no copies: a voxeliser hands in what it just built) and checks that they describe one
     * consistent voxelisation, so a faulty backend fails here rather than in a convolution.
     *
     * @param keys         M keys, strictly increasing in {@link CoordinateKey#compare} order
     * @param positions    [M, 3] row-major
     * @param channels     [M, C] row-major, C = {@code channelNames.size()}
     * @param pointCounts  M counts, each at least 1
     * @param pointToVoxel N voxel indices, one per input point; voxel v is named by exactly {@code pointCounts[v]}
     */
    public VoxelizedCloud(Voxelization voxelization, List<String> channelNames, long[] keys, float[] positions,
                          float[] channels, int[] pointCounts, int[] pointToVoxel) {
        String call = "VoxelizedCloud";
        this.voxelization = Objects.requireNonNull(voxelization, "voxelization");
        this.channelNames = List.copyOf(channelNames);
        int m = keys.length;
        int c = this.channelNames.size();
        if (positions.length != 3L * m || channels.length != (long) c * m || pointCounts.length != m) {
            throw InvalidInputException.shape(call, m + " voxels need " + 3L * m + " positions, " + (long) c * m
                    + " channel values and " + m + " counts; got " + positions.length + ", " + channels.length + ", "
                    + pointCounts.length);
        }
        for (int v = 1; v < m; v++) {
            if (CoordinateKey.compare(keys[v - 1], keys[v]) >= 0) {
                throw InvalidInputException.argument(call, "voxel keys are not strictly increasing at voxel " + v + ": "
                        + CoordinateKey.describe(keys[v - 1]) + " then " + CoordinateKey.describe(keys[v]));
            }
        }
        int[] seen = new int[m];
        for (int i = 0; i < pointToVoxel.length; i++) {
            int v = pointToVoxel[i];
            if (v < 0 || v >= m) {
                throw InvalidInputException.argument(call, "point " + i + " maps to voxel " + v + " of " + m);
            }
            seen[v]++;
        }
        for (int v = 0; v < m; v++) {
            if (pointCounts[v] < 1 || seen[v] != pointCounts[v]) {
                throw InvalidInputException.argument(call, "voxel " + v + " counts " + pointCounts[v] + " points but "
                        + seen[v] + " points map to it");
            }
        }
        this.keys = keys;
        this.positions = positions;
        this.channels = channels;
        this.pointCounts = pointCounts;
        this.pointToVoxel = pointToVoxel;
    }

    public Voxelization voxelization() {
        return voxelization;
    }

    public int voxelCount() {
        return keys.length;
    }

    /** How many points were voxelised. */
    public int pointCount() {
        return pointToVoxel.length;
    }

    public List<String> channelNames() {
        return channelNames;
    }

    public int channelCount() {
        return channelNames.size();
    }

    /** The voxels' keys, ascending. */
    public long[] keys() {
        return keys.clone();
    }

    public long key(int voxel) {
        return keys[voxel];
    }

    /** [M, 4] row-major (batch, x, y, z) in voxel units. */
    public int[] coordinates() {
        return CoordinateKey.unpackRows(keys);
    }

    /** The voxels' coordinates are in voxel units: stride 1 on every axis. */
    public int[] tensorStride() {
        return new int[] {1, 1, 1};
    }

    /** [M, 3] row-major reduced x, y, z. */
    public float[] positions() {
        return positions.clone();
    }

    /** [M, C] row-major reduced channels. */
    public float[] channels() {
        return channels.clone();
    }

    public int[] pointCounts() {
        return pointCounts.clone();
    }

    /** For every input point, the index of its voxel. */
    public int[] pointToVoxel() {
        return pointToVoxel.clone();
    }

    public int featureWidth(VoxelFeatures features) {
        return features.width(channelCount());
    }

    /** [M, {@link #featureWidth}] row-major: the features a sparse tensor made from these voxels holds. */
    public float[] features(VoxelFeatures features) {
        int m = keys.length;
        int c = channelCount();
        return switch (features) {
            case CHANNELS -> {
                if (c == 0) {
                    throw VoxelizationErrors.noChannels("VoxelizedCloud.features");
                }
                yield channels.clone();
            }
            case POSITIONS -> positions.clone();
            case POSITIONS_AND_CHANNELS -> {
                float[] out = new float[m * (3 + c)];
                for (int v = 0; v < m; v++) {
                    System.arraycopy(positions, 3 * v, out, v * (3 + c), 3);
                    System.arraycopy(channels, c * v, out, v * (3 + c) + 3, c);
                }
                yield out;
            }
            case OCCUPANCY -> {
                float[] out = new float[m];
                Arrays.fill(out, 1f);
                yield out;
            }
        };
    }

    @Override
    public String toString() {
        return "VoxelizedCloud[" + pointCount() + " points -> " + voxelCount() + " voxels, " + voxelization + "]";
    }
}

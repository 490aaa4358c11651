package org.lacuna.runtime.pointcloud;

/** Which per-voxel values become a sparse tensor's features. */
public enum VoxelFeatures {
    /** The cloud's extra channels (intensity, reflectance, ...), reduced per voxel: [M, C]. */
    CHANNELS,
    /** The reduced x, y, z: [M, 3]. */
    POSITIONS,
    /** The reduced x, y, z followed by the channels: [M, 3 + C]. */
    POSITIONS_AND_CHANNELS,
    /** A constant 1 per voxel: [M, 1], the usual input of occupancy-only networks. */
    OCCUPANCY;

    /** The feature columns these values take for a cloud of {@code channels} extra channels. */
    public int width(int channels) {
        return switch (this) {
            case CHANNELS -> channels;
            case POSITIONS -> 3;
            case POSITIONS_AND_CHANNELS -> 3 + channels;
            case OCCUPANCY -> 1;
        };
    }
}

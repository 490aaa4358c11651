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
    OCCUPANCY
}

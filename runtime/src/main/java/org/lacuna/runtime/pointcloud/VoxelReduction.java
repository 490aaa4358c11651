package org.lacuna.runtime.pointcloud;

/** How the points that fall into one voxel become the voxel's position and channel values. */
public enum VoxelReduction {
    /** The average of the voxel's points (summed in double, in input order, then rounded to float). */
    MEAN,
    /** The voxel's first point in input order. */
    FIRST
}

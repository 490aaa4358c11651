package org.lacuna.runtime.ops;

/** How {@link VoxelizationOps#devoxelize} reads a point's feature off the voxels around it. */
public enum PointInterpolation {
    /** The voxel that contains the point. */
    NEAREST,
    /**
     * The 8 voxel centres around the point, weighted by the trilinear weights; absent neighbours are skipped and the
     * remaining weights renormalised to sum to one.
     */
    TRILINEAR
}

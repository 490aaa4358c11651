package org.lacuna.runtime.pointcloud;

/**
 * Turns raw points into occupied voxels. Every implementation computes the same function: voxel coordinates from
 * {@link Voxelization#cell}, one voxel per distinct (batch, x, y, z), voxels sorted by {@link CoordinateKey} order,
 * and the {@link VoxelReduction} applied to the points of each voxel in input order. {@link CpuVoxelizer} is the
 * reference a device implementation is checked against.
 *
 * <p>Fails with an {@link org.lacuna.runtime.error.InvalidInputException} for an empty cloud, a point with a NaN or
 * infinite coordinate, or a voxel coordinate outside the {@link CoordinateKey} range, naming the first such point.
 */
public interface Voxelizer {
    VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization);

    /** The multi-threaded CPU reference. */
    static Voxelizer cpu() {
        return new CpuVoxelizer();
    }
}

package org.lacuna.runtime.ops;

import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;

/**
 * Voxelisation: points to occupied voxels. Every backend computes the same function, bit for bit: voxel coordinates
 * from {@link Voxelization#cell}, one voxel per distinct (batch, x, y, z), voxels sorted in
 * {@link org.lacuna.runtime.pointcloud.CoordinateKey} order, and the {@link
 * org.lacuna.runtime.pointcloud.VoxelReduction} applied to each voxel's points in input order (a mean sums in double).
 * The CPU backends run {@code cpu/CpuVoxelizer}, the reference; the CUDA backend computes on the device
 * ({@code voxelize.cu}).
 *
 * <p>Fails with an {@link org.lacuna.runtime.error.InvalidInputException} for an empty cloud, a point with a NaN or
 * infinite coordinate, or a voxel coordinate outside the key range, naming the first such point, with the same
 * message on every backend ({@link org.lacuna.runtime.pointcloud.VoxelizationErrors}).
 */
public interface VoxelizationOps {
    /** The voxels of {@code cloud} under {@code voxelization}, checked as documented above. */
    VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization);
}

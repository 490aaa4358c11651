package org.lacuna.runtime.ops;

import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.pointcloud.Voxelizer;

/**
 * Voxelisation: points to distinct voxels with their per-voxel reductions. Every backend returns exactly what the
 * CPU reference ({@link Voxelizer#cpu()}) returns; the CUDA backend computes on the device ({@code voxelize.cu}).
 */
public interface VoxelizationOps {
    /** The voxels of {@code cloud} under {@code voxelization}, checked as {@link Voxelizer#voxelize} documents. */
    VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization);
}

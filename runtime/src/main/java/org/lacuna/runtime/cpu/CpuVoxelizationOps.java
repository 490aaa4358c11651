package org.lacuna.runtime.cpu;

import org.lacuna.runtime.ops.VoxelizationOps;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.pointcloud.Voxelizer;

/**
 * Voxelisation on both CPU backends: the multi-threaded {@link Voxelizer#cpu()}, exact in any precision (its
 * reductions are sums and firsts in input order), so the serving backend and the reference share it.
 */
final class CpuVoxelizationOps implements VoxelizationOps {
    private final Voxelizer voxelizer = Voxelizer.cpu();

    @Override
    public VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization) {
        return voxelizer.voxelize(cloud, voxelization);
    }
}

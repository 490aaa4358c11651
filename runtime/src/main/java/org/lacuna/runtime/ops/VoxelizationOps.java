package org.lacuna.runtime.ops;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.ResidentVoxels;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * Voxelisation and the ops that move features between points, voxels and dense grids. They share the layout of a
 * sparse tensor on the device (coordinates I32 [N, 4] (batch, x, y, z), features [N, C]) and read its coordinates
 * themselves, which is why pooling per batch sample, the bird's-eye view and devoxelisation sit here rather than
 * with the elementwise ops, which never look at coordinates. Arguments are checked by {@link VoxelizationContracts}
 * before any work is issued; the ops on device arrays are asynchronous on GPU backends.
 *
 * <p>{@link #voxelize}: every backend computes the same function, bit for bit: voxel coordinates from
 * {@link Voxelization#cell}, one voxel per distinct (batch, x, y, z), voxels sorted in
 * {@link org.lacuna.runtime.pointcloud.CoordinateKey} order, and the {@link
 * org.lacuna.runtime.pointcloud.VoxelReduction} applied to each voxel's points in input order (a mean sums in double).
 * The CPU backends run {@code cpu/CpuVoxelizer}, the reference; the CUDA backend computes on the device
 * ({@code voxelize.cu}), its key sort included. It fails with an {@link
 * org.lacuna.runtime.error.InvalidInputException} for an empty cloud, a point with a NaN or infinite coordinate, or a
 * voxel coordinate outside the key range, naming the first such point, with the same message on every backend
 * ({@link org.lacuna.runtime.pointcloud.VoxelizationErrors}).
 *
 * <p>The other ops compute in fp32 (the reference in double) with a fixed order of every reduction, so a backend's
 * result does not depend on its thread count or scheduling. Coordinates are distinct, as a sparse tensor's are. Rows
 * (or points) that the output cannot hold (a batch index past the output's batches, a cell outside the grid, a voxel
 * absent from the coordinates) are left out rather than checked: the device cannot fail a call without a round trip,
 * so callers check such input beforehand on the host copies they hold (the point-cloud layers do, naming the row or
 * point).
 */
public interface VoxelizationOps {
    /**
     * The voxels of {@code cloud} under {@code voxelization}, checked as documented above, on the host: every array
     * of the voxelisation (counts and point-to-voxel included), for tools, checks and the reference. A network's
     * input takes {@link #voxelizeResident} instead.
     */
    VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization);

    /**
     * The voxels of {@code cloud} where this backend keeps them: the same keys and {@code features} (rounded to
     * {@code featureType}) as {@link #voxelize} then {@link VoxelizedCloud#features}, bit for bit, as arrays in this
     * backend's memory that a sparse tensor takes over without an upload, and the keys on the host (the coordinate
     * set's description, from which the host derives every size). The CPU backends voxelise on the host into their
     * own memory: nothing is copied or read. The CUDA backend voxelises on the device, reads two ints (whether a
     * point was invalid, and the voxel count M, which sizes the rest: counted as size reads in {@link
     * org.lacuna.runtime.backend.TransferStats}) and downloads the M keys (the host's description); the features and
     * the device keys stay where they were computed. Fails as {@link #voxelize} does, and for a {@code CHANNELS}
     * selection of a cloud without channels or a feature type other than F32, F16 or BF16.
     */
    ResidentVoxels voxelizeResident(PointCloud cloud, Voxelization voxelization, VoxelFeatures features,
                                    DType featureType);

    /**
     * Global pooling per batch sample: {@code out[b, c]} = the max or mean of {@code features[r, c]} over the rows r
     * whose batch index {@code coordinates[r, 0]} is b, in row order; 0 for a sample without rows.
     *
     * @param features    [N, C], F32, F16 or BF16
     * @param coordinates I32 [N, 4]
     * @param out         F32 [B, C]: B is the number of samples
     */
    void batchPool(DeviceArray features, DeviceArray coordinates, BatchPooling pooling, DeviceArray out);

    /**
     * Sparse → dense bird's-eye view: each row's features land in its {@link BevGrid} cell, and z collapses as
     * {@code reduction} says.
     *
     * @param features     [N, C], F32, F16 or BF16
     * @param coordinates  I32 [N, 4], multiples of {@code tensorStride}
     * @param tensorStride positive on every axis
     * @param out          F32 [B, C·Z, Y, X] for {@link BevReduction#STACK_Z}, [B, C, Y, X] otherwise
     */
    void bevProject(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, BevGrid grid,
                    BevReduction reduction, DeviceArray out);

    /**
     * Voxel features back to points. A point p (x, y, z) of batch b is at g = p / size in stride-1 voxel units (the
     * division in double); a voxel at coordinate v (a multiple of the tensor stride s) covers [v, v + s) with its
     * centre at v + s/2. {@link PointInterpolation#NEAREST}: the voxel ⌊⌊g⌋ / s⌋·s; {@link
     * PointInterpolation#TRILINEAR}: with u = (g − s/2) / s, k = ⌊u⌋, the 8 voxels (k + d)·s, d ∈ {0, 1}³ in the
     * order d = (dx, dy, dz) read as a 3-bit number, weighted by ∏ (d ? u − k : 1 − (u − k)) in double; weights that
     * are 0 and absent voxels are skipped and the rest divided by their sum. A point with no voxel gets zeros.
     *
     * @param features     [N, C], F32, F16 or BF16
     * @param coordinates  I32 [N, 4]
     * @param points       F32 [P, 3] (x, y, z)
     * @param pointBatches I32 [P]
     * @param voxelization the one whose voxel size made the stride-1 coordinates
     * @param out          [P, C] of the features' dtype
     */
    void devoxelize(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, DeviceArray points,
                    DeviceArray pointBatches, Voxelization voxelization, PointInterpolation interpolation,
                    DeviceArray out);
}

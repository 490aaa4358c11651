package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.function.LongFunction;
import org.lacuna.runtime.cpu.kernels.HalfConversions;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.BatchPooling;
import org.lacuna.runtime.ops.BevGrid;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.ops.VoxelizationContracts;
import org.lacuna.runtime.ops.VoxelizationOps;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.ResidentVoxels;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizationErrors;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * The voxelising of both CPU backends (the serving one and the reference), the host voxeliser's, and their resident
 * voxels: the host voxelisation's selected features rounded once (to nearest even, as an
 * upload of them would be) into the backend's own memory, and its keys as a view of the host keys (the CPU backends'
 * resident keys are the coordinate set's host keys). The backend's memory is the host's, so nothing here is a copy
 * between host and device: the transfer counters stay where they were. Pooling, the bird's-eye view and
 * devoxelisation are checked and read here, the same for both (the contracts, each row's sample, cell or corners,
 * the host memory behind the arrays); only the arithmetic over them is each backend's own (fp32 on the serving
 * backend's threads, double in the reference).
 */
abstract class HostVoxelizationOps implements VoxelizationOps {
    private final String backendName;
    /** The backend's allocator: the resident voxels' features are the backend's own memory. */
    private final LongFunction<DeviceBuffer> memory;
    private final CpuVoxelizer voxelizer;

    HostVoxelizationOps(String backendName, LongFunction<DeviceBuffer> memory, CpuVoxelizer voxelizer) {
        this.backendName = backendName;
        this.memory = memory;
        this.voxelizer = voxelizer;
    }

    @Override
    public final VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization) {
        return voxelizer.voxelize(cloud, voxelization);
    }

    @Override
    public final ResidentVoxels voxelizeResident(PointCloud cloud, Voxelization voxelization, VoxelFeatures features,
                                                 DType featureType) {
        VoxelizationErrors.requireResidentInput(cloud, voxelization, features, featureType);
        return resident(voxelizer.voxelize(cloud, voxelization), features, featureType);
    }

    private ResidentVoxels resident(VoxelizedCloud voxels, VoxelFeatures features, DType featureType) {
        float[] values = voxels.features(features);
        long width = voxels.featureWidth(features);
        DeviceBuffer buffer = memory.apply((long) values.length * featureType.byteSize());
        try {
            HalfConversions.narrow(values, 0, values.length, ((CpuBuffer) buffer).segment("voxelizeResident"), 0,
                    featureType);
            long[] keys = voxels.keys();
            return new ResidentVoxels(voxels.voxelization(), features, keys, HostResidency.wrapKeys(backendName, keys),
                    new DeviceArray(buffer, 0, featureType, Shape.of(voxels.voxelCount(), width)),
                    voxels.pointCount());
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, buffer);
        }
    }

    @Override
    public final void batchPool(DeviceArray features, DeviceArray coordinates, BatchPooling pooling, DeviceArray out) {
        String call = "batchPool";
        VoxelizationContracts.batchPool(backendName, features, coordinates, pooling, out);
        SampleRows samples = new SampleRows(SparseRows.coordinates(coordinates, call),
                Math.toIntExact(out.shape().dim(0)));
        poolSamples(features, input(features, call), samples, pooling, out, segment(out, call));
    }

    @Override
    public final void bevProject(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, BevGrid grid,
                                 BevReduction reduction, DeviceArray out) {
        String call = "bevProject";
        VoxelizationContracts.bevProject(backendName, features, coordinates, tensorStride, grid, reduction, out);
        BevCells cells = new BevCells(SparseRows.coordinates(coordinates, call), tensorStride, grid,
                out.shape().dim(0), features.shape().dim(1), reduction, call);
        projectCells(features, input(features, call), cells, reduction, out, segment(out, call));
    }

    @Override
    public final void devoxelize(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, DeviceArray points,
                                 DeviceArray pointBatches, Voxelization voxelization, PointInterpolation interpolation,
                                 DeviceArray out) {
        String call = "devoxelize";
        VoxelizationContracts.devoxelize(backendName, features, coordinates, tensorStride, points, pointBatches,
                voxelization, interpolation, out);
        PointVoxels voxels = new PointVoxels(coordinates, tensorStride, points, pointBatches, voxelization,
                interpolation, call);
        interpolatePoints(features, input(features, call), voxels, out, segment(out, call));
    }

    /**
     * {@link #batchPool}'s arithmetic: every element {@code (b, c)} of {@code out} [B, C] (written through
     * {@code result}) from the rows of sample b in {@code samples} (features read through {@code in}).
     */
    abstract void poolSamples(DeviceArray features, MemorySegment in, SampleRows samples, BatchPooling pooling,
                              DeviceArray out, MemorySegment result);

    /** {@link #bevProject}'s arithmetic: every element of {@code out} from the rows {@code cells} finds for it. */
    abstract void projectCells(DeviceArray features, MemorySegment in, BevCells cells, BevReduction reduction,
                               DeviceArray out, MemorySegment result);

    /** {@link #devoxelize}'s arithmetic: every point (row of {@code out} [P, C]) from its corners in {@code voxels}. */
    abstract void interpolatePoints(DeviceArray features, MemorySegment in, PointVoxels voxels, DeviceArray out,
                                    MemorySegment result);

    /** An array the op writes. */
    private static MemorySegment segment(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).segment(call);
    }

    /** An array the op only reads: its generation stays, so forms cached from it stay valid. */
    private static MemorySegment input(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).readSegment(call);
    }
}

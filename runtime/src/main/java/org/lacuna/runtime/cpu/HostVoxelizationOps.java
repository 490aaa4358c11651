package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.function.LongFunction;
import org.lacuna.runtime.cpu.kernels.HalfConversions;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.VoxelizationOps;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.ResidentVoxels;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizationErrors;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;

/**
 * The voxelising of both CPU backends (the serving one and the reference), the host voxeliser's, and their resident
 * voxels: the host voxelisation's selected features rounded once (to nearest even, as an
 * upload of them would be) into the backend's own memory, and its keys as a view of the host keys (the CPU backends'
 * resident keys are the coordinate set's host keys). The backend's memory is the host's, so nothing here is a copy
 * between host and device: the transfer counters stay where they were. Pooling, bird's-eye view and devoxelisation
 * are each backend's own.
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

    /** An array the op writes. */
    static MemorySegment segment(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).segment(call);
    }

    /** An array the op only reads: its generation stays, so forms cached from it stay valid. */
    static MemorySegment input(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).readSegment(call);
    }
}

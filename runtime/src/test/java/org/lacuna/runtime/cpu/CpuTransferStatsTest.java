package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.backend.TransferStats;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.ResidentVoxels;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;

/** Both CPU backends count each copy between host data and their memory, its bytes, and each wait; ops count none. */
class CpuTransferStatsTest {
    @Test
    void copiesAndWaitsAreCountedWithTheirBytesAndOpsAreNot() {
        for (Backend backend : List.of(new CpuBackendProvider().open(0), new ReferenceBackendProvider().open(0))) {
            try (backend) {
                TransferStats start = backend.transferStats();
                DeviceArray x = HostData.upload(backend, DType.F16, Shape.of(3, 5), new float[15]);
                DeviceArray y = HostData.upload(backend, DType.F32, Shape.of(3, 5), new float[15]);
                TransferStats uploaded = backend.transferStats().since(start);
                assertEquals(new TransferStats(2, 15 * 2 + 15 * 4, 0, 0, 0), uploaded, backend.name());

                TransferStats beforeOps = backend.transferStats();
                backend.ops().elementwise().biasActivation(x, null, Activation.RELU, y);
                backend.ops().elementwise().cast(y, x);
                assertEquals(new TransferStats(0, 0, 0, 0, 0), backend.transferStats().since(beforeOps),
                        backend.name() + ": ops copy nothing between host and backend");

                HostData.downloadFloats(backend, y);
                backend.synchronize();
                backend.synchronize();
                TransferStats after = backend.transferStats().since(beforeOps);
                assertEquals(1, after.downloads(), backend.name());
                assertEquals(15 * 4, after.downloadBytes(), backend.name());
                assertEquals(2, after.synchronizations(), backend.name());
                assertEquals(1, after.copies(), backend.name());
                x.buffer().close();
                y.buffer().close();
            }
        }
    }

    /**
     * A CPU backend voxelises into its own memory, which is the host's: no copy and no size read, and the voxels'
     * features are the backend's own memory (counted in its memory stats until freed).
     */
    @Test
    void residentVoxelisationCopiesAndReadsNothing() {
        PointCloud cloud = PointCloud.of(new float[] {0.1f, 0.2f, 3.5f}, new float[] {0, 0, 1}, new float[] {0, 0, 2});
        for (Backend backend : List.of(new CpuBackendProvider().open(0), new ReferenceBackendProvider().open(0))) {
            try (backend) {
                TransferStats start = backend.transferStats();
                long inUse = backend.memoryStats().inUseBytes();
                try (ResidentVoxels voxels = backend.ops().voxelization().voxelizeResident(cloud,
                        Voxelization.cubic(1.0, VoxelReduction.MEAN), VoxelFeatures.POSITIONS, DType.F32)) {
                    assertEquals(2, voxels.voxelCount());
                    assertEquals(new TransferStats(0, 0, 0, 0, 0, 0, 0), backend.transferStats().since(start),
                            backend.name());
                    // The pool hands out whole size classes: at least the 2 × 3 floats.
                    assertTrue(backend.memoryStats().inUseBytes() >= inUse + 2 * 3 * Float.BYTES, backend.name());
                }
                assertEquals(inUse, backend.memoryStats().inUseBytes(), backend.name() + ": closing frees them");
            }
        }
    }
}

package org.lacuna.runtime.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.VoxelizationConformance;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.testing.GpuSupport;
import org.lacuna.runtime.testing.GpuTest;
import org.lacuna.runtime.testing.TestData;

/** The device voxeliser against the family's conformance suite (the cpu-reference's result, bit for bit). */
@GpuTest
class CudaVoxelizationOpsGpuTest extends VoxelizationConformance {
    @Override
    protected Backend openBackend() {
        Backend cuda = GpuSupport.openCudaOrSkip();
        assertInstanceOf(CudaVoxelizationOps.class, cuda.ops().voxelization());
        return cuda;
    }

    @Test
    void aVoxelHoldingThousandsOfPointsKeepsThemInInputOrder() {
        // One voxel of every point: the device's stable sort by voxel must keep a list of 4,096 in input order.
        PointCloud cloud = randomCloud(TestData.random("cudaVoxelizerCrowded"), 4096, 3f, 2);
        assertTrue(cloud.size() == 4096);
        for (VoxelReduction reduction : VoxelReduction.values()) {
            assertSameAsReference(cloud, Voxelization.cubic(100.0, reduction));
        }
    }
}

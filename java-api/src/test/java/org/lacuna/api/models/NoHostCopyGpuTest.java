package org.lacuna.api.models;

import org.lacuna.runtime.testing.GpuTest;

/**
 * {@link HostCopyFreeForwards} on the CUDA backend: a MinkUNet forward on the KITTI sweep and encoder forwards on
 * random token batches make no PCIe copy between the input upload and the output download. Not yet run: no GPU has
 * been lent to this project, so this is what the test asserts, not a recorded outcome.
 */
@GpuTest
class NoHostCopyGpuTest extends HostCopyFreeForwards {
    @Override
    protected String backend() {
        return "cuda";
    }

    @Override
    protected boolean voxelisesOnADevice() {
        return true;
    }
}

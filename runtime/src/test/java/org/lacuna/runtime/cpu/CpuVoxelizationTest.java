package org.lacuna.runtime.cpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.VoxelizationConformance;

/** The serving CPU backend against the voxeliser's conformance suite. */
class CpuVoxelizationTest extends VoxelizationConformance {
    @Override
    protected Backend openBackend() {
        return new CpuBackendProvider().open(0);
    }
}

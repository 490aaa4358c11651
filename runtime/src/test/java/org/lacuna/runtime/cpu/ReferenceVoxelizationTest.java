package org.lacuna.runtime.cpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.VoxelizationConformance;

/**
 * The reference backend against the voxelisation family's conformance suite: its results are the oracle the suite
 * compares with, so what this adds is the reference's own checks (the same errors, with the same messages, as every
 * other backend) and the voxels grouped by hand.
 */
class ReferenceVoxelizationTest extends VoxelizationConformance {
    @Override
    protected Backend openBackend() {
        return new ReferenceBackendProvider().open(0);
    }
}

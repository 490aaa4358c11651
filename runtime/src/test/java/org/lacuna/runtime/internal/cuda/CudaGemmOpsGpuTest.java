package org.lacuna.runtime.internal.cuda;

import org.junit.jupiter.api.Test;
import org.lacuna.runtime.testing.GpuTest;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.GemmConformance;
import org.lacuna.runtime.testing.GpuSupport;

/** The CUDA backend's GEMM family against the formulas (inherited), the Hopper kernel included. */
@GpuTest
class CudaGemmOpsGpuTest extends GemmConformance {
    @Override
    protected Backend openBackend() {
        return GpuSupport.openCudaOrSkip();
    }

    /** The Hopper wgmma.sp kernel (opt-in until verified) against the same references as the mma.sp one. */
    @Test
    void warpgroupSparseKernelOnHopper() {
        org.junit.jupiter.api.Assumptions.assumeTrue(backend.device().computeCapability() == 90,
                "wgmma.sp needs sm_90; this is " + backend.device().targetArchitecture());
        // The opt-in is read when a backend opens: a second backend, opened with it set, serves these checks.
        Backend plain = backend;
        System.setProperty("lacuna.wgmmaSparse", "true");
        try (Backend optedIn = GpuSupport.openCudaOrSkip()) {
            backend = optedIn;
            twoFourMetadataPlacesEveryPositionExactly();
            linearKernelsMatchTheDoubleReference();
        } finally {
            backend = plain;
            System.clearProperty("lacuna.wgmmaSparse");
        }
    }
}

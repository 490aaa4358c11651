package org.lacuna.runtime.cpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.GemmConformance;

/** The serving CPU backend on its plain Java path (what a JVM without jdk.incubator.vector runs), 2 threads. */
class CpuGemmScalarTest extends GemmConformance {
    @Override
    protected Backend openBackend() {
        return new CpuBackendProvider().open(0, new CpuOptions(2, false, false));
    }
}

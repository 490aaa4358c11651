package org.lacuna.runtime.cpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.AttentionConformance;

/** The serving CPU backend's scalar kernels (the path without the Vector API), on two threads, against the suite. */
class CpuAttentionScalarTest extends AttentionConformance {
    @Override
    protected Backend openBackend() {
        return new CpuBackendProvider().open(0, new CpuOptions(2, false, false));
    }
}

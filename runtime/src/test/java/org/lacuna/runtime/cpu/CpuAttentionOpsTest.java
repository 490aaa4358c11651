package org.lacuna.runtime.cpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.AttentionConformance;

/** The serving CPU backend against the family's conformance suite. */
class CpuAttentionOpsTest extends AttentionConformance {
    @Override
    protected Backend openBackend() {
        return new CpuBackendProvider().open(0);
    }
}

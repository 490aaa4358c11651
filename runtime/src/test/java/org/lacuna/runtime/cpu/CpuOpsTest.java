package org.lacuna.runtime.cpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.OpsConformance;

/** The serving CPU backend against the family's conformance suite. */
class CpuOpsTest extends OpsConformance {
    @Override
    protected Backend openBackend() {
        return new CpuBackendProvider().open(0);
    }
}

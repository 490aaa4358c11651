package org.lacuna.runtime.cpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.GemmConformance;

/** The serving CPU backend against the family's conformance suite. */
class CpuGemmTest extends GemmConformance {
    @Override
    protected Backend openBackend() {
        return new CpuBackendProvider().open(0);
    }
}

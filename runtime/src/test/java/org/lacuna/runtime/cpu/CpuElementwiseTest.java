package org.lacuna.runtime.cpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.ElementwiseConformance;

/** The serving CPU backend against the family's conformance suite. */
class CpuElementwiseTest extends ElementwiseConformance {
    @Override
    protected Backend openBackend() {
        return new CpuBackendProvider().open(0);
    }
}

package org.lacuna.runtime.cpu;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.GemmConformance;

class ReferenceGemmTest extends GemmConformance {
    @Override
    protected Backend openBackend() {
        return new ReferenceBackendProvider().open(0);
    }
}

package org.lacuna.runtime.cpu;

import java.util.List;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.SparseConvolutionConformance;
import org.lacuna.runtime.sparseconv.Dataflow;

class ReferenceSparseConvolutionTest extends SparseConvolutionConformance {
    @Override
    protected Backend openBackend() {
        return new ReferenceBackendProvider().open(0);
    }

    @Override
    protected List<Dataflow> dataflows() {
        return List.of(Dataflow.IMPLICIT_GEMM);
    }
}

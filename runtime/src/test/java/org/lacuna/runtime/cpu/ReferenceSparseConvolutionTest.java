package org.lacuna.runtime.cpu;

import java.util.List;
import org.lacuna.runtime.Backend;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.ops.SparseConvolutionConformance;

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

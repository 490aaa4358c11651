package org.lacuna.runtime.cpu;

import java.util.List;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.SparseConvolutionConformance;
import org.lacuna.runtime.sparseconv.Dataflow;

/** The serving CPU backend's scalar path (no Vector API, two threads) against the sparse-convolution suite. */
class CpuScalarSparseConvolutionTest extends SparseConvolutionConformance {
    @Override
    protected Backend openBackend() {
        return new CpuBackendProvider().open(0, new CpuOptions(2, false, false));
    }

    @Override
    protected List<Dataflow> dataflows() {
        return List.of(Dataflow.values());
    }
}

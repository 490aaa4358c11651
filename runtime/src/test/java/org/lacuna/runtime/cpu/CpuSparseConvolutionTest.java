package org.lacuna.runtime.cpu;

import java.util.List;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.ops.SparseConvolutionConformance;
import org.lacuna.runtime.sparseconv.Dataflow;

/** The serving CPU backend against the sparse-convolution conformance suite, every dataflow. */
class CpuSparseConvolutionTest extends SparseConvolutionConformance {
    @Override
    protected Backend openBackend() {
        return new CpuBackendProvider().open(0);
    }

    @Override
    protected List<Dataflow> dataflows() {
        return List.of(Dataflow.values());
    }
}

package org.lacuna.runtime.cpu;

import org.lacuna.runtime.ops.OpFamilies;

/**
 * The reference implementation of every op family: double-precision arithmetic, one rounding to the output type at
 * the end; the oracle every other backend is tested against.
 */
final class ReferenceOps extends OpFamilies implements AutoCloseable {
    private final ReferenceConvolutionOps convolution;

    /** @param backend the backend whose tensors this serves: the reference's own, or the one it stands in for */
    ReferenceOps(String backend) {
        this(backend, new ReferenceConvolutionOps(backend));
    }

    private ReferenceOps(String backend, ReferenceConvolutionOps convolution) {
        super(new ReferenceElementwiseOps(backend), new ReferenceGemmOps(backend), new ReferenceAttentionOps(backend),
                convolution, new ReferenceVoxelizationOps(backend));
        this.convolution = convolution;
    }

    /** Drops this backend's state from the coordinate sets (the backend closes). */
    @Override
    public void close() {
        convolution.close();
    }
}

package org.lacuna.runtime.cpu;

import org.lacuna.runtime.ops.OpFamilies;

/**
 * The reference implementation of every op family: double-precision arithmetic, one rounding to the output type at
 * the end; the oracle every other backend is tested against.
 */
final class ReferenceOps extends OpFamilies {
    /** @param backend the backend whose tensors this serves: the reference's own, or the one it stands in for */
    ReferenceOps(String backend) {
        super(new ReferenceElementwiseOps(backend), new ReferenceGemmOps(backend), new ReferenceAttentionOps(backend),
                new ReferenceConvolutionOps(backend), new ReferenceVoxelizationOps(backend));
    }
}

package org.lacuna.runtime.cpu;

import java.util.function.LongFunction;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.ops.OpFamilies;

/**
 * The reference implementation of every op family: double-precision arithmetic, one rounding to the output type at
 * the end; the oracle every other backend is tested against.
 */
final class ReferenceOps extends OpFamilies implements AutoCloseable {
    private final ReferenceConvolutionOps convolution;

    /**
     * @param backend the backend whose tensors this serves: the reference's own, or the one it stands in for
     * @param memory  that backend's allocator, for the ops that size their own outputs (the resident voxels)
     */
    ReferenceOps(String backend, LongFunction<DeviceBuffer> memory) {
        this(backend, new ReferenceConvolutionOps(backend), memory);
    }

    private ReferenceOps(String backend, ReferenceConvolutionOps convolution, LongFunction<DeviceBuffer> memory) {
        super(new ReferenceElementwiseOps(backend), new ReferenceGemmOps(backend), new ReferenceAttentionOps(backend),
                convolution, new ReferenceVoxelizationOps(backend, memory));
        this.convolution = convolution;
    }

    /** Drops this backend's state from the coordinate sets (the backend closes). */
    @Override
    public void close() {
        convolution.close();
    }
}

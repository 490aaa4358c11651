package org.lacuna.runtime.cpu;

import org.lacuna.runtime.ops.AttentionOps;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.GemmOps;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.VoxelizationOps;

/**
 * The reference implementation of every op family: double-precision arithmetic, one rounding to the output type at
 * the end; the oracle every other backend is tested against.
 */
final class ReferenceOps implements OpSet {
    private final ElementwiseOps elementwise;
    private final GemmOps gemm;
    private final AttentionOps attention;
    private final ConvolutionOps convolution;
    private final VoxelizationOps voxelization;

    /** @param backend the backend whose tensors this serves: the reference's own, or the one it stands in for */
    ReferenceOps(String backend) {
        this.elementwise = new ReferenceElementwiseOps(backend);
        this.gemm = new ReferenceGemmOps(backend);
        this.attention = new ReferenceAttentionOps(backend);
        this.convolution = new ReferenceConvolutionOps(backend);
        this.voxelization = new ReferenceVoxelizationOps(backend);
    }

    @Override
    public ElementwiseOps elementwise() {
        return elementwise;
    }

    @Override
    public GemmOps gemm() {
        return gemm;
    }

    @Override
    public AttentionOps attention() {
        return attention;
    }

    @Override
    public ConvolutionOps convolution() {
        return convolution;
    }

    @Override
    public VoxelizationOps voxelization() {
        return voxelization;
    }
}

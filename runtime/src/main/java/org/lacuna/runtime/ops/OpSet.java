package org.lacuna.runtime.ops;

/**
 * The operations a backend runs, one interface per family. Every backend computes the same function; the
 * double-precision {@code cpu-reference} backend is the oracle the others are tested against. Arguments are checked
 * by each family's contracts before any work is issued. Calls are asynchronous on GPU backends: results are visible
 * after a download or {@code synchronize()}.
 */
public interface OpSet {
    /** Bias + activation, casts, row reductions, add, layer norm, batch norm, concatenation. */
    ElementwiseOps elementwise();

    /** Linear layers with dense, 2:4 and CSR weights. */
    GemmOps gemm();

    /** Token scoring, selection, gather/scatter and flash attention. */
    AttentionOps attention();

    /** Point-cloud sparse convolution: kernel maps and their dataflows. */
    ConvolutionOps convolution();

    /** Points to voxels. */
    VoxelizationOps voxelization();
}

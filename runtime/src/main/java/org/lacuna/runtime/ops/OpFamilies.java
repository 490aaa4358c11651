package org.lacuna.runtime.ops;

import java.util.Objects;

/**
 * An {@link OpSet} made of its five families, handed out as given: the one place that holds them, so a backend's op
 * set only says how it makes each family (and what else it offers, such as its paths).
 */
public abstract class OpFamilies implements OpSet {
    private final ElementwiseOps elementwise;
    private final GemmOps gemm;
    private final AttentionOps attention;
    private final ConvolutionOps convolution;
    private final VoxelizationOps voxelization;

    protected OpFamilies(ElementwiseOps elementwise, GemmOps gemm, AttentionOps attention,
                         ConvolutionOps convolution, VoxelizationOps voxelization) {
        this.elementwise = Objects.requireNonNull(elementwise, "elementwise");
        this.gemm = Objects.requireNonNull(gemm, "gemm");
        this.attention = Objects.requireNonNull(attention, "attention");
        this.convolution = Objects.requireNonNull(convolution, "convolution");
        this.voxelization = Objects.requireNonNull(voxelization, "voxelization");
    }

    @Override
    public final ElementwiseOps elementwise() {
        return elementwise;
    }

    @Override
    public final GemmOps gemm() {
        return gemm;
    }

    @Override
    public final AttentionOps attention() {
        return attention;
    }

    @Override
    public final ConvolutionOps convolution() {
        return convolution;
    }

    @Override
    public final VoxelizationOps voxelization() {
        return voxelization;
    }
}

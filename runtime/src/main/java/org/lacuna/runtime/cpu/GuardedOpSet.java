package org.lacuna.runtime.cpu;

import java.util.List;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.schedule.OpPaths;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.BatchPooling;
import org.lacuna.runtime.ops.BevGrid;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.ops.AttentionOps;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.GemmOps;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.ops.VoxelizationOps;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.Int3;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapTables;
import org.lacuna.runtime.sparseconv.ResidentKernelMap;

/**
 * A CPU backend's ops as callers see them: each call of every family is counted in flight by the backend's
 * {@link CpuLifecycle}, so closing the backend waits for it and a call after the close is a
 * {@link org.lacuna.runtime.error.ResourceClosedException}.
 */
final class GuardedOpSet implements OpSet, OpPaths {
    private final OpSet ops;
    private final CpuLifecycle lifecycle;
    private final ElementwiseOps elementwise;
    private final GemmOps gemm;
    private final AttentionOps attention;
    private final ConvolutionOps convolution;
    private final VoxelizationOps voxelization;

    GuardedOpSet(OpSet ops, CpuLifecycle lifecycle) {
        this.ops = ops;
        this.lifecycle = lifecycle;
        this.elementwise = new Elementwise(ops.elementwise());
        this.gemm = new Gemm(ops.gemm());
        this.attention = new Attention(ops.attention());
        this.convolution = new Convolution(ops.convolution());
        this.voxelization = new Voxelizing(ops.voxelization());
    }

    @Override
    public List<String> denseLinearPaths() {
        return ops instanceof OpPaths paths ? paths.denseLinearPaths() : List.of();
    }

    @Override
    public void linearDense(String path, DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation,
                            DeviceArray y) {
        if (!(ops instanceof OpPaths paths)) {
            throw new NotSupportedException("linearDense", "this backend has one dense path");
        }
        run("linearDense", () -> paths.linearDense(path, x, w, bias, activation, y));
    }

    private void run(String call, Runnable body) {
        lifecycle.run(call, body);
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

    private final class Elementwise implements ElementwiseOps {
        private final ElementwiseOps ops;

        Elementwise(ElementwiseOps ops) {
            this.ops = ops;
        }

        @Override
        public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
            run("biasActivation", () -> ops.biasActivation(x, bias, activation, y));
        }

        @Override
        public void cast(DeviceArray x, DeviceArray y) {
            run("cast", () -> ops.cast(x, y));
        }

        @Override
        public void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
            run("rowReduce", () -> ops.rowReduce(x, reduction, out));
        }

        @Override
        public void add(DeviceArray a, DeviceArray b, DeviceArray y) {
            run("add", () -> ops.add(a, b, y));
        }

        @Override
        public void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
            run("layerNorm", () -> ops.layerNorm(x, gamma, beta, epsilon, y));
        }

        @Override
        public void batchNorm(DeviceArray x, DeviceArray scale, DeviceArray shift, DeviceArray y) {
            run("batchNorm", () -> ops.batchNorm(x, scale, shift, y));
        }

        @Override
        public void concatColumns(DeviceArray a, DeviceArray b, DeviceArray y) {
            run("concatColumns", () -> ops.concatColumns(a, b, y));
        }
    }

    private final class Gemm implements GemmOps {
        private final GemmOps ops;

        Gemm(GemmOps ops) {
            this.ops = ops;
        }

        @Override
        public void linearDense(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
            run("linearDense", () -> ops.linearDense(x, w, bias, activation, y));
        }

        @Override
        public void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation,
                                  DeviceArray y) {
            run("linearTwoFour", () -> ops.linearTwoFour(x, w, bias, activation, y));
        }

        @Override
        public void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
            run("linearCsr", () -> ops.linearCsr(x, w, bias, activation, y));
        }
    }

    private final class Attention implements AttentionOps {
        private final AttentionOps ops;

        Attention(AttentionOps ops) {
            this.ops = ops;
        }

        @Override
        public void selectTokens(DeviceArray scores, SequenceBatch batch, DeviceArray pinMask, SelectionRule rule,
                                 TokenSelection out) {
            run("selectTokens", () -> ops.selectTokens(scores, batch, pinMask, rule, out));
        }

        @Override
        public void gatherRows(DeviceArray x, TokenSelection selection, DeviceArray out) {
            run("gatherRows", () -> ops.gatherRows(x, selection, out));
        }

        @Override
        public void scatterRows(DeviceArray kept, TokenSelection selection, DeviceArray passThrough, DeviceArray out) {
            run("scatterRows", () -> ops.scatterRows(kept, selection, passThrough, out));
        }

        @Override
        public void attention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray out,
                              DeviceArray logSumExp) {
            run("attention", () -> ops.attention(inputs, batch, options, out, logSumExp));
        }

        @Override
        public void keyAttention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                                 DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
            run("keyAttention", () -> ops.keyAttention(inputs, batch, options, logSumExp, score, scores));
        }
    }

    private final class Convolution implements ConvolutionOps {
        private final ConvolutionOps ops;

        Convolution(ConvolutionOps ops) {
            this.ops = ops;
        }

        @Override
        public void sparseConvolution(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                                      Activation activation, Dataflow dataflow, DeviceArray y) {
            run("sparseConvolution", () -> ops.sparseConvolution(x, map, weights, bias, activation, dataflow, y));
        }

        @Override
        public DeviceArray coordinateKeys(CoordinateSet set) {
            return lifecycle.call("coordinateKeys", () -> ops.coordinateKeys(set));
        }

        @Override
        public ResidentKernelMap residentMap(KernelMap map) {
            return lifecycle.call("residentMap", () -> ops.residentMap(map));
        }

        @Override
        public void unpackCoordinates(DeviceArray keys, DeviceArray coordinates) {
            run("unpackCoordinates", () -> ops.unpackCoordinates(keys, coordinates));
        }

        @Override
        public MapTables buildMapTables(CoordinateSet inputs, CoordinateSet outputs, ConvGeometry geometry) {
            return lifecycle.call("buildMapTables", () -> ops.buildMapTables(inputs, outputs, geometry));
        }
    }

    private final class Voxelizing implements VoxelizationOps {
        private final VoxelizationOps ops;

        Voxelizing(VoxelizationOps ops) {
            this.ops = ops;
        }

        @Override
        public VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization) {
            return lifecycle.call("voxelize", () -> ops.voxelize(cloud, voxelization));
        }

        @Override
        public void batchPool(DeviceArray features, DeviceArray coordinates, BatchPooling pooling, DeviceArray out) {
            run("batchPool", () -> ops.batchPool(features, coordinates, pooling, out));
        }

        @Override
        public void bevProject(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, BevGrid grid,
                               BevReduction reduction, DeviceArray out) {
            run("bevProject", () -> ops.bevProject(features, coordinates, tensorStride, grid, reduction, out));
        }

        @Override
        public void devoxelize(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, DeviceArray points,
                               DeviceArray pointBatches, Voxelization voxelization, PointInterpolation interpolation,
                               DeviceArray out) {
            run("devoxelize", () -> ops.devoxelize(features, coordinates, tensorStride, points, pointBatches,
                    voxelization, interpolation, out));
        }
    }
}

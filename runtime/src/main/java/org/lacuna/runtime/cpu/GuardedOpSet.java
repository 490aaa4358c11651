package org.lacuna.runtime.cpu;

import java.util.List;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.schedule.OpPaths;
import org.lacuna.runtime.data.DType;
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
import org.lacuna.runtime.ops.OpFamilies;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.ops.VoxelizationOps;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.ResidentVoxels;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
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
final class GuardedOpSet extends OpFamilies implements OpPaths {
    private final OpSet ops;
    private final CpuLifecycle lifecycle;

    GuardedOpSet(OpSet ops, CpuLifecycle lifecycle) {
        this.ops = ops;
        this.lifecycle = lifecycle;
        super(new Elementwise(ops.elementwise(), lifecycle), new Gemm(ops.gemm(), lifecycle),
                new Attention(ops.attention(), lifecycle), new Convolution(ops.convolution(), lifecycle),
                new Voxelizing(ops.voxelization(), lifecycle));
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
        lifecycle.run("linearDense", () -> paths.linearDense(path, x, w, bias, activation, y));
    }

    private static final class Elementwise implements ElementwiseOps {
        private final ElementwiseOps ops;
        private final CpuLifecycle lifecycle;

        Elementwise(ElementwiseOps ops, CpuLifecycle lifecycle) {
            this.ops = ops;
            this.lifecycle = lifecycle;
        }

        @Override
        public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
            lifecycle.run("biasActivation", () -> ops.biasActivation(x, bias, activation, y));
        }

        @Override
        public void cast(DeviceArray x, DeviceArray y) {
            lifecycle.run("cast", () -> ops.cast(x, y));
        }

        @Override
        public void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
            lifecycle.run("rowReduce", () -> ops.rowReduce(x, reduction, out));
        }

        @Override
        public void add(DeviceArray a, DeviceArray b, DeviceArray y) {
            lifecycle.run("add", () -> ops.add(a, b, y));
        }

        @Override
        public void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
            lifecycle.run("layerNorm", () -> ops.layerNorm(x, gamma, beta, epsilon, y));
        }

        @Override
        public void batchNorm(DeviceArray x, DeviceArray scale, DeviceArray shift, DeviceArray y) {
            lifecycle.run("batchNorm", () -> ops.batchNorm(x, scale, shift, y));
        }

        @Override
        public void concatColumns(DeviceArray a, DeviceArray b, DeviceArray y) {
            lifecycle.run("concatColumns", () -> ops.concatColumns(a, b, y));
        }
    }

    private static final class Gemm implements GemmOps {
        private final GemmOps ops;
        private final CpuLifecycle lifecycle;

        Gemm(GemmOps ops, CpuLifecycle lifecycle) {
            this.ops = ops;
            this.lifecycle = lifecycle;
        }

        @Override
        public void linearDense(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
            lifecycle.run("linearDense", () -> ops.linearDense(x, w, bias, activation, y));
        }

        @Override
        public void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation,
                                  DeviceArray y) {
            lifecycle.run("linearTwoFour", () -> ops.linearTwoFour(x, w, bias, activation, y));
        }

        @Override
        public void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
            lifecycle.run("linearCsr", () -> ops.linearCsr(x, w, bias, activation, y));
        }
    }

    private static final class Attention implements AttentionOps {
        private final AttentionOps ops;
        private final CpuLifecycle lifecycle;

        Attention(AttentionOps ops, CpuLifecycle lifecycle) {
            this.ops = ops;
            this.lifecycle = lifecycle;
        }

        @Override
        public void selectTokens(DeviceArray scores, SequenceBatch batch, DeviceArray pinMask, SelectionRule rule,
                                 TokenSelection out) {
            lifecycle.run("selectTokens", () -> ops.selectTokens(scores, batch, pinMask, rule, out));
        }

        @Override
        public void gatherRows(DeviceArray x, TokenSelection selection, DeviceArray out) {
            lifecycle.run("gatherRows", () -> ops.gatherRows(x, selection, out));
        }

        @Override
        public void scatterRows(DeviceArray kept, TokenSelection selection, DeviceArray passThrough, DeviceArray out) {
            lifecycle.run("scatterRows", () -> ops.scatterRows(kept, selection, passThrough, out));
        }

        @Override
        public void attention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray out,
                              DeviceArray logSumExp) {
            lifecycle.run("attention", () -> ops.attention(inputs, batch, options, out, logSumExp));
        }

        @Override
        public void keyAttention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                                 DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
            lifecycle.run("keyAttention", () -> ops.keyAttention(inputs, batch, options, logSumExp, score, scores));
        }
    }

    private static final class Convolution implements ConvolutionOps {
        private final ConvolutionOps ops;
        private final CpuLifecycle lifecycle;

        Convolution(ConvolutionOps ops, CpuLifecycle lifecycle) {
            this.ops = ops;
            this.lifecycle = lifecycle;
        }

        @Override
        public void sparseConvolution(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                                      Activation activation, Dataflow dataflow, DeviceArray y) {
            lifecycle.run("sparseConvolution",
                    () -> ops.sparseConvolution(x, map, weights, bias, activation, dataflow, y));
        }

        @Override
        public DeviceArray coordinateKeys(CoordinateSet set) {
            return lifecycle.call("coordinateKeys", () -> ops.coordinateKeys(set));
        }

        @Override
        public DeviceArray adoptCoordinateKeys(CoordinateSet set, DeviceArray keys) {
            return lifecycle.call("adoptCoordinateKeys", () -> ops.adoptCoordinateKeys(set, keys));
        }

        @Override
        public ResidentKernelMap residentMap(KernelMap map) {
            return lifecycle.call("residentMap", () -> ops.residentMap(map));
        }

        @Override
        public void unpackCoordinates(DeviceArray keys, DeviceArray coordinates) {
            lifecycle.run("unpackCoordinates", () -> ops.unpackCoordinates(keys, coordinates));
        }

        @Override
        public MapTables buildMapTables(CoordinateSet inputs, CoordinateSet outputs, ConvGeometry geometry) {
            return lifecycle.call("buildMapTables", () -> ops.buildMapTables(inputs, outputs, geometry));
        }
    }

    private static final class Voxelizing implements VoxelizationOps {
        private final VoxelizationOps ops;
        private final CpuLifecycle lifecycle;

        Voxelizing(VoxelizationOps ops, CpuLifecycle lifecycle) {
            this.ops = ops;
            this.lifecycle = lifecycle;
        }

        @Override
        public VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization) {
            return lifecycle.call("voxelize", () -> ops.voxelize(cloud, voxelization));
        }

        @Override
        public ResidentVoxels voxelizeResident(PointCloud cloud, Voxelization voxelization, VoxelFeatures features,
                                               DType featureType) {
            return lifecycle.call("voxelizeResident",
                    () -> ops.voxelizeResident(cloud, voxelization, features, featureType));
        }

        @Override
        public void batchPool(DeviceArray features, DeviceArray coordinates, BatchPooling pooling, DeviceArray out) {
            lifecycle.run("batchPool", () -> ops.batchPool(features, coordinates, pooling, out));
        }

        @Override
        public void bevProject(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, BevGrid grid,
                               BevReduction reduction, DeviceArray out) {
            lifecycle.run("bevProject",
                    () -> ops.bevProject(features, coordinates, tensorStride, grid, reduction, out));
        }

        @Override
        public void devoxelize(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, DeviceArray points,
                               DeviceArray pointBatches, Voxelization voxelization, PointInterpolation interpolation,
                               DeviceArray out) {
            lifecycle.run("devoxelize", () -> ops.devoxelize(features, coordinates, tensorStride, points, pointBatches,
                    voxelization, interpolation, out));
        }
    }
}

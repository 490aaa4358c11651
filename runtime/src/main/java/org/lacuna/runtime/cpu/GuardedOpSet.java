package org.lacuna.runtime.cpu;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
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

    /** One family's ops behind the backend's lifecycle: every call counted in flight, refused once it is closed. */
    private abstract static class Guarded<T> {
        private final T ops;
        private final CpuLifecycle lifecycle;

        Guarded(T ops, CpuLifecycle lifecycle) {
            this.ops = ops;
            this.lifecycle = lifecycle;
        }

        final void run(String call, Consumer<T> body) {
            lifecycle.run(call, () -> body.accept(ops));
        }

        final <R> R call(String call, Function<T, R> body) {
            return lifecycle.call(call, () -> body.apply(ops));
        }
    }

    private static final class Elementwise extends Guarded<ElementwiseOps> implements ElementwiseOps {
        Elementwise(ElementwiseOps ops, CpuLifecycle lifecycle) {
            super(ops, lifecycle);
        }

        @Override
        public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
            run("biasActivation", ops -> ops.biasActivation(x, bias, activation, y));
        }

        @Override
        public void cast(DeviceArray x, DeviceArray y) {
            run("cast", ops -> ops.cast(x, y));
        }

        @Override
        public void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
            run("rowReduce", ops -> ops.rowReduce(x, reduction, out));
        }

        @Override
        public void add(DeviceArray a, DeviceArray b, DeviceArray y) {
            run("add", ops -> ops.add(a, b, y));
        }

        @Override
        public void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
            run("layerNorm", ops -> ops.layerNorm(x, gamma, beta, epsilon, y));
        }

        @Override
        public void residualLayerNorm(DeviceArray x, DeviceArray residual, DeviceArray gamma, DeviceArray beta,
                                      double epsilon, DeviceArray y) {
            run("residualLayerNorm", ops -> ops.residualLayerNorm(x, residual, gamma, beta, epsilon, y));
        }

        @Override
        public void batchNorm(DeviceArray x, DeviceArray scale, DeviceArray shift, DeviceArray y) {
            run("batchNorm", ops -> ops.batchNorm(x, scale, shift, y));
        }

        @Override
        public void concatColumns(DeviceArray a, DeviceArray b, DeviceArray y) {
            run("concatColumns", ops -> ops.concatColumns(a, b, y));
        }
    }

    private static final class Gemm extends Guarded<GemmOps> implements GemmOps {
        Gemm(GemmOps ops, CpuLifecycle lifecycle) {
            super(ops, lifecycle);
        }

        @Override
        public void linearDense(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
            run("linearDense", ops -> ops.linearDense(x, w, bias, activation, y));
        }

        @Override
        public void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation,
                                  DeviceArray y) {
            run("linearTwoFour", ops -> ops.linearTwoFour(x, w, bias, activation, y));
        }

        @Override
        public void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
            run("linearCsr", ops -> ops.linearCsr(x, w, bias, activation, y));
        }
    }

    private static final class Attention extends Guarded<AttentionOps> implements AttentionOps {
        Attention(AttentionOps ops, CpuLifecycle lifecycle) {
            super(ops, lifecycle);
        }

        @Override
        public void selectTokens(DeviceArray scores, SequenceBatch batch, DeviceArray pinMask, SelectionRule rule,
                                 TokenSelection out) {
            run("selectTokens", ops -> ops.selectTokens(scores, batch, pinMask, rule, out));
        }

        @Override
        public void gatherRows(DeviceArray x, TokenSelection selection, DeviceArray out) {
            run("gatherRows", ops -> ops.gatherRows(x, selection, out));
        }

        @Override
        public void scatterRows(DeviceArray kept, TokenSelection selection, DeviceArray passThrough, DeviceArray out) {
            run("scatterRows", ops -> ops.scatterRows(kept, selection, passThrough, out));
        }

        @Override
        public void attention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray out,
                              DeviceArray logSumExp) {
            run("attention", ops -> ops.attention(inputs, batch, options, out, logSumExp));
        }

        @Override
        public void keyAttention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                                 DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
            run("keyAttention", ops -> ops.keyAttention(inputs, batch, options, logSumExp, score, scores));
        }
    }

    private static final class Convolution extends Guarded<ConvolutionOps> implements ConvolutionOps {
        Convolution(ConvolutionOps ops, CpuLifecycle lifecycle) {
            super(ops, lifecycle);
        }

        @Override
        public void sparseConvolution(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                                      Activation activation, Dataflow dataflow, DeviceArray y) {
            run("sparseConvolution",
                    ops -> ops.sparseConvolution(x, map, weights, bias, activation, dataflow, y));
        }

        @Override
        public DeviceArray coordinateKeys(CoordinateSet set) {
            return call("coordinateKeys", ops -> ops.coordinateKeys(set));
        }

        @Override
        public DeviceArray adoptCoordinateKeys(CoordinateSet set, DeviceArray keys) {
            return call("adoptCoordinateKeys", ops -> ops.adoptCoordinateKeys(set, keys));
        }

        @Override
        public ResidentKernelMap residentMap(KernelMap map) {
            return call("residentMap", ops -> ops.residentMap(map));
        }

        @Override
        public void unpackCoordinates(DeviceArray keys, DeviceArray coordinates) {
            run("unpackCoordinates", ops -> ops.unpackCoordinates(keys, coordinates));
        }

        @Override
        public MapTables buildMapTables(CoordinateSet inputs, CoordinateSet outputs, ConvGeometry geometry) {
            return call("buildMapTables", ops -> ops.buildMapTables(inputs, outputs, geometry));
        }
    }

    private static final class Voxelizing extends Guarded<VoxelizationOps> implements VoxelizationOps {
        Voxelizing(VoxelizationOps ops, CpuLifecycle lifecycle) {
            super(ops, lifecycle);
        }

        @Override
        public VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization) {
            return call("voxelize", ops -> ops.voxelize(cloud, voxelization));
        }

        @Override
        public ResidentVoxels voxelizeResident(PointCloud cloud, Voxelization voxelization, VoxelFeatures features,
                                               DType featureType) {
            return call("voxelizeResident",
                    ops -> ops.voxelizeResident(cloud, voxelization, features, featureType));
        }

        @Override
        public void batchPool(DeviceArray features, DeviceArray coordinates, BatchPooling pooling, DeviceArray out) {
            run("batchPool", ops -> ops.batchPool(features, coordinates, pooling, out));
        }

        @Override
        public void bevProject(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, BevGrid grid,
                               BevReduction reduction, DeviceArray out) {
            run("bevProject",
                    ops -> ops.bevProject(features, coordinates, tensorStride, grid, reduction, out));
        }

        @Override
        public void devoxelize(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, DeviceArray points,
                               DeviceArray pointBatches, Voxelization voxelization, PointInterpolation interpolation,
                               DeviceArray out) {
            run("devoxelize", ops -> ops.devoxelize(features, coordinates, tensorStride, points, pointBatches,
                    voxelization, interpolation, out));
        }
    }
}

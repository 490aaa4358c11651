package org.lacuna.runtime.ops;

import java.util.List;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * The argument checks of {@link VoxelizationOps}' ops on device arrays, shared by every backend so that all fail
 * alike ({@code voxelize}'s own checks are {@link org.lacuna.runtime.pointcloud.VoxelizationErrors}).
 */
public final class VoxelizationContracts {
    private VoxelizationContracts() {
    }

    public static void batchPool(String backend, DeviceArray features, DeviceArray coordinates, BatchPooling pooling,
                                 DeviceArray out) {
        String call = "batchPool";
        OpContracts.requireOpen(call, backend, features, coordinates, out);
        if (pooling == null) {
            throw InvalidInputException.argument(call, "pooling is null");
        }
        long channels = sparseTensor(call, features, coordinates);
        if (out.dtype() != DType.F32 || out.shape().rank() != 2 || out.shape().dim(1) != channels) {
            throw InvalidInputException.shape(call, "out must be F32 [batches, " + channels + "], got " + out.dtype()
                    + out.shape());
        }
        requireApart(call, out, features, coordinates);
    }

    public static void bevProject(String backend, DeviceArray features, DeviceArray coordinates, Int3 tensorStride,
                                  BevGrid grid, BevReduction reduction, DeviceArray out) {
        String call = "bevProject";
        OpContracts.requireOpen(call, backend, features, coordinates, out);
        if (grid == null || reduction == null) {
            throw InvalidInputException.argument(call, grid == null ? "grid is null" : "reduction is null");
        }
        requireStride(call, tensorStride);
        long channels = sparseTensor(call, features, coordinates);
        long planes = grid.outputChannels(channels, reduction);
        Shape shape = out.shape();
        if (out.dtype() != DType.F32 || shape.rank() != 4 || shape.dim(1) != planes
                || shape.dim(2) != grid.cells().y() || shape.dim(3) != grid.cells().x()) {
            throw InvalidInputException.shape(call, "out must be F32 [batches, " + planes + ", " + grid.cells().y()
                    + ", " + grid.cells().x() + "] for " + channels + " channels and " + reduction + ", got "
                    + out.dtype() + shape);
        }
        requireApart(call, out, features, coordinates);
    }

    public static void devoxelize(String backend, DeviceArray features, DeviceArray coordinates, Int3 tensorStride,
                                  DeviceArray points, DeviceArray pointBatches, Voxelization voxelization,
                                  PointInterpolation interpolation, DeviceArray out) {
        String call = "devoxelize";
        OpContracts.requireOpen(call, backend, features, coordinates, points, pointBatches, out);
        if (voxelization == null || interpolation == null) {
            throw InvalidInputException.argument(call, voxelization == null ? "voxelization is null"
                    : "interpolation is null");
        }
        requireStride(call, tensorStride);
        long channels = sparseTensor(call, features, coordinates);
        if (points.dtype() != DType.F32 || points.shape().rank() != 2 || points.shape().dim(1) != 3) {
            throw InvalidInputException.shape(call, "points must be F32 [P, 3], got " + points.dtype()
                    + points.shape());
        }
        long p = points.shape().dim(0);
        if (pointBatches.dtype() != DType.I32 || !pointBatches.shape().equals(Shape.of(p))) {
            throw InvalidInputException.shape(call, "pointBatches must be I32 [" + p + "], got "
                    + pointBatches.dtype() + pointBatches.shape());
        }
        if (out.dtype() != features.dtype() || !out.shape().equals(Shape.of(p, channels))) {
            throw InvalidInputException.shape(call, "out must be " + features.dtype() + " [" + p + ", " + channels
                    + "], got " + out.dtype() + out.shape());
        }
        requireApart(call, out, features, coordinates, points, pointBatches);
    }

    /** Checks features [N, C] (floating point) against coordinates I32 [N, 4]; returns C. */
    private static long sparseTensor(String call, DeviceArray features, DeviceArray coordinates) {
        OpContracts.requireFloat(call, "features", features);
        if (features.shape().rank() != 2) {
            throw InvalidInputException.shape(call, "features must be [N, C], got " + features.shape());
        }
        long n = features.shape().dim(0);
        if (coordinates.dtype() != DType.I32 || !coordinates.shape().equals(Shape.of(n, 4))) {
            throw InvalidInputException.shape(call, "coordinates must be I32 [" + n + ", 4] for " + n
                    + " feature rows, got " + coordinates.dtype() + coordinates.shape());
        }
        return features.shape().dim(1);
    }

    private static void requireStride(String call, Int3 stride) {
        if (stride == null || stride.x() < 1 || stride.y() < 1 || stride.z() < 1) {
            throw InvalidInputException.argument(call, "tensor stride " + stride + " must be positive on every axis");
        }
    }

    private static void requireApart(String call, DeviceArray out, DeviceArray... inputs) {
        for (DeviceArray in : List.of(inputs)) {
            if (OpContracts.overlaps(in, out)) {
                throw InvalidInputException.argument(call, "an input overlaps out");
            }
        }
    }
}

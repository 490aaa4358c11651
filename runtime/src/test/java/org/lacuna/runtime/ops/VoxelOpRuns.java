package org.lacuna.runtime.ops;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * One call of a voxelisation-family op on device arrays, from host inputs to host output: the inputs uploaded to the
 * given backend, the output poisoned (every byte 0xFF, NaN) before the call, everything freed after.
 */
public final class VoxelOpRuns {
    private VoxelOpRuns() {
    }

    /** What one backend returns for one op on uploaded inputs; the arrays are freed after. */
    @FunctionalInterface
    private interface OnBackend {
        float[] run(Backend on, List<DeviceArray> owned);
    }

    private static float[] on(Backend on, OnBackend body) {
        List<DeviceArray> owned = new ArrayList<>();
        try {
            return body.run(on, owned);
        } finally {
            owned.forEach(a -> a.buffer().close());
        }
    }

    private static DeviceArray output(Backend on, List<DeviceArray> owned, DType dtype, Shape shape) {
        DeviceArray array = new DeviceArray(on.allocate(shape.elementCount() * dtype.byteSize()), 0, dtype, shape);
        on.fill(array.buffer(), 0, array.byteSize(), (byte) 0xFF);
        owned.add(array);
        return array;
    }

    private static DeviceArray input(Backend on, List<DeviceArray> owned, DeviceArray array) {
        owned.add(array);
        return array;
    }

    public static float[] batchPool(Backend on, SparseCases.Coordinates coords, float[] features, DType dtype, int c,
                              BatchPooling pooling) {
        return on(on, (b, owned) -> {
            DeviceArray f = input(b, owned, HostData.upload(b, dtype, Shape.of(coords.rows(), c), features));
            DeviceArray xyz = input(b, owned, HostData.upload(b, Shape.of(coords.rows(), 4), coords.values()));
            DeviceArray out = output(b, owned, DType.F32, Shape.of(coords.batches(), c));
            b.ops().voxelization().batchPool(f, xyz, pooling, out);
            return HostData.downloadFloats(b, out);
        });
    }

    public static float[] bevProject(Backend on, SparseCases.Coordinates coords, float[] features, DType dtype, int c,
                               Int3 stride, BevGrid grid, BevReduction reduction) {
        return on(on, (b, owned) -> {
            DeviceArray f = input(b, owned, HostData.upload(b, dtype, Shape.of(coords.rows(), c), features));
            DeviceArray xyz = input(b, owned, HostData.upload(b, Shape.of(coords.rows(), 4), coords.values()));
            DeviceArray out = output(b, owned, DType.F32, Shape.of(coords.batches(), grid.outputChannels(c,
                    reduction), grid.cells().y(), grid.cells().x()));
            b.ops().voxelization().bevProject(f, xyz, stride, grid, reduction, out);
            return HostData.downloadFloats(b, out);
        });
    }

    public static float[] devoxelize(Backend on, SparseCases.Coordinates coords, float[] features, DType dtype, int c,
                               Int3 stride, PointCloud points, Voxelization voxelization,
                               PointInterpolation interpolation) {
        float[] xyz = new float[3 * points.size()];
        for (int p = 0; p < points.size(); p++) {
            xyz[3 * p] = points.x(p);
            xyz[3 * p + 1] = points.y(p);
            xyz[3 * p + 2] = points.z(p);
        }
        return on(on, (b, owned) -> {
            DeviceArray f = input(b, owned, HostData.upload(b, dtype, Shape.of(coords.rows(), c), features));
            DeviceArray rows = input(b, owned, HostData.upload(b, Shape.of(coords.rows(), 4), coords.values()));
            DeviceArray at = input(b, owned, HostData.upload(b, DType.F32, Shape.of(points.size(), 3), xyz));
            DeviceArray batches = input(b, owned, HostData.upload(b, Shape.of(points.size()),
                    points.batchIndices()));
            DeviceArray out = output(b, owned, dtype, Shape.of(points.size(), c));
            b.ops().voxelization().devoxelize(f, rows, stride, at, batches, voxelization, interpolation, out);
            return HostData.downloadFloats(b, out);
        });
    }
}

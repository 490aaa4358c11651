package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.stream.LongStream;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.BatchPooling;
import org.lacuna.runtime.ops.BevGrid;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.ops.VoxelizationContracts;
import org.lacuna.runtime.ops.VoxelizationOps;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * The reference of the voxelisation family: {@link CpuVoxelizer} (exact in any precision) and pooling, the
 * bird's-eye view and devoxelisation in double, rounded once to the output type.
 */
final class ReferenceVoxelizationOps implements VoxelizationOps {
    private final String backend;
    private final CpuVoxelizer voxelizer = new CpuVoxelizer();

    /** @param backend the backend whose tensors this serves: the reference's own, or the one it stands in for */
    ReferenceVoxelizationOps(String backend) {
        this.backend = backend;
    }

    @Override
    public VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization) {
        return voxelizer.voxelize(cloud, voxelization);
    }

    @Override
    public void batchPool(DeviceArray features, DeviceArray coordinates, BatchPooling pooling, DeviceArray out) {
        String call = "batchPool";
        VoxelizationContracts.batchPool(backend, features, coordinates, pooling, out);
        int[] coords = SparseRows.coordinates(coordinates, call);
        MemorySegment in = segment(features, call);
        MemorySegment result = segment(out, call);
        long c = features.shape().dim(1);
        LongStream.range(0, out.elementCount()).parallel().forEach(e -> {
            long b = e / c;
            long ch = e % c;
            double acc = pooling == BatchPooling.MEAN ? 0 : Double.NEGATIVE_INFINITY;
            int count = 0;
            for (int r = 0; r < coords.length / 4; r++) {
                if (coords[4 * r] == b) {
                    double v = CpuElements.read(in, features.byteOffset(), features.dtype(), r * c + ch);
                    acc = pooling == BatchPooling.MEAN ? acc + v : Math.max(acc, v);
                    count++;
                }
            }
            double value = count == 0 ? 0 : pooling == BatchPooling.MEAN ? acc / count : acc;
            CpuElements.write(result, out.byteOffset(), out.dtype(), e, (float) value);
        });
    }

    @Override
    public void bevProject(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, BevGrid grid,
                           BevReduction reduction, DeviceArray out) {
        String call = "bevProject";
        VoxelizationContracts.bevProject(backend, features, coordinates, tensorStride, grid, reduction, out);
        int[] index = SparseRows.bevIndex(SparseRows.coordinates(coordinates, call), tensorStride, grid,
                out.shape().dim(0), call);
        MemorySegment in = segment(features, call);
        MemorySegment result = segment(out, call);
        long c = features.shape().dim(1);
        int cz = grid.cells().z();
        long plane = (long) grid.cells().y() * grid.cells().x();
        long outChannels = grid.outputChannels(c, reduction);
        LongStream.range(0, out.elementCount()).parallel().forEach(e -> {
            long pixel = e % plane;
            long channel = e / plane % outChannels;
            long b = e / (plane * outChannels);
            double value = 0;
            if (reduction == BevReduction.STACK_Z) {
                int row = index[(int) ((b * cz + channel % cz) * plane + pixel)];
                if (row >= 0) {
                    value = CpuElements.read(in, features.byteOffset(), features.dtype(), row * c + channel / cz);
                }
            } else {
                boolean seen = false;
                for (int z = 0; z < cz; z++) {
                    int row = index[(int) ((b * cz + z) * plane + pixel)];
                    if (row >= 0) {
                        double v = CpuElements.read(in, features.byteOffset(), features.dtype(), row * c + channel);
                        value = reduction == BevReduction.SUM ? value + v : seen ? Math.max(value, v) : v;
                        seen = true;
                    }
                }
            }
            CpuElements.write(result, out.byteOffset(), out.dtype(), e, (float) value);
        });
    }

    @Override
    public void devoxelize(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, DeviceArray points,
                           DeviceArray pointBatches, Voxelization voxelization, PointInterpolation interpolation,
                           DeviceArray out) {
        String call = "devoxelize";
        VoxelizationContracts.devoxelize(backend, features, coordinates, tensorStride, points, pointBatches,
                voxelization, interpolation, out);
        PointVoxels voxels = new PointVoxels(SparseRows.keys(SparseRows.coordinates(coordinates, call)),
                tensorStride, voxelization, interpolation);
        float[] xyz = SparseRows.floats(points, call);
        int[] batches = SparseRows.coordinates(pointBatches, call);
        MemorySegment in = segment(features, call);
        MemorySegment result = segment(out, call);
        long c = features.shape().dim(1);
        LongStream.range(0, points.shape().dim(0)).parallel().forEach(i -> {
            int k = (int) i;
            int[] rows = new int[8];
            double[] weights = new double[8];
            int found = voxels.corners(xyz[3 * k], xyz[3 * k + 1], xyz[3 * k + 2], batches[k], rows, weights);
            double total = 0;
            for (int j = 0; j < found; j++) {
                total += weights[j];
            }
            for (long ch = 0; ch < c; ch++) {
                double acc = 0;
                for (int j = 0; j < found; j++) {
                    acc += weights[j] * CpuElements.read(in, features.byteOffset(), features.dtype(), rows[j] * c + ch);
                }
                CpuElements.write(result, out.byteOffset(), out.dtype(), i * c + ch,
                        (float) (found == 0 ? 0 : acc / total));
            }
        });
    }

    private static MemorySegment segment(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).segment(call);
    }
}

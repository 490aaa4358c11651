package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.stream.LongStream;
import java.util.function.LongFunction;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.ops.BatchPooling;
import org.lacuna.runtime.ops.BevGrid;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.ops.VoxelizationContracts;
import org.lacuna.runtime.ops.VoxelizationOps;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.ResidentVoxels;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * The reference of the voxelisation family: {@link CpuVoxelizer} (exact in any precision) and pooling, the
 * bird's-eye view and devoxelisation in double, rounded once to the output type.
 */
final class ReferenceVoxelizationOps extends HostVoxelizationOps {
    private final String backend;

    /** @param backend the backend whose tensors this serves: the reference's own, or the one it stands in for */
    ReferenceVoxelizationOps(String backend, LongFunction<DeviceBuffer> memory) {
        super(backend, memory, new CpuVoxelizer());
        this.backend = backend;
    }

    @Override
    public void batchPool(DeviceArray features, DeviceArray coordinates, BatchPooling pooling, DeviceArray out) {
        String call = "batchPool";
        VoxelizationContracts.batchPool(backend, features, coordinates, pooling, out);
        long c = features.shape().dim(1);
        SampleRows samples = new SampleRows(SparseRows.coordinates(coordinates, call),
                Math.toIntExact(out.shape().dim(0)));
        MemorySegment in = input(features, call);
        MemorySegment result = segment(out, call);
        LongStream.range(0, out.elementCount()).parallel().forEach(e -> {
            int b = (int) (e / c);
            int count = samples.count(b);
            double acc = pooling == BatchPooling.MEAN ? 0 : Double.NEGATIVE_INFINITY;
            for (int k = 0; k < count; k++) {
                double v = CpuElements.read(in, features.byteOffset(), features.dtype(), samples.row(b, k) * c + e % c);
                acc = pooling == BatchPooling.MEAN ? acc + v : Math.max(acc, v);
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
        long c = features.shape().dim(1);
        BevCells cells = new BevCells(SparseRows.coordinates(coordinates, call), tensorStride, grid,
                out.shape().dim(0), c, reduction, call);
        MemorySegment in = input(features, call);
        MemorySegment result = segment(out, call);
        LongStream.range(0, out.elementCount()).parallel().forEach(e -> {
            int[] rows = new int[cells.depth()];
            int found = cells.rows(e, rows);
            double value = 0;
            for (int k = 0; k < found; k++) {
                double v = CpuElements.read(in, features.byteOffset(), features.dtype(), rows[k] * c + cells.channel(e));
                value = k == 0 ? v : reduction == BevReduction.SUM ? value + v : Math.max(value, v);
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
        PointVoxels voxels = new PointVoxels(coordinates, tensorStride, points, pointBatches, voxelization,
                interpolation, call);
        MemorySegment in = input(features, call);
        MemorySegment result = segment(out, call);
        long c = features.shape().dim(1);
        LongStream.range(0, points.shape().dim(0)).parallel().forEach(i -> {
            int k = (int) i;
            int[] rows = new int[8];
            double[] weights = new double[8];
            int found = voxels.corners(k, rows, weights);
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
}

package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.function.LongFunction;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.ops.BatchPooling;
import org.lacuna.runtime.ops.BevReduction;

/**
 * The reference of the voxelisation family: {@link CpuVoxelizer} (exact in any precision) and pooling, the
 * bird's-eye view and devoxelisation in double, rounded once to the output type.
 */
final class ReferenceVoxelizationOps extends HostVoxelizationOps {
    /** @param backend the backend whose tensors this serves: the reference's own, or the one it stands in for */
    ReferenceVoxelizationOps(String backend, LongFunction<DeviceBuffer> memory) {
        super(backend, memory, new CpuVoxelizer());
    }

    @Override
    void poolSamples(DeviceArray features, MemorySegment in, SampleRows samples, BatchPooling pooling,
                     DeviceArray out, MemorySegment result) {
        long c = features.shape().dim(1);
        ReferenceParallel.forEach(out.elementCount(), features.elementCount(), e -> {
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
    void projectCells(DeviceArray features, MemorySegment in, BevCells cells, BevReduction reduction,
                      DeviceArray out, MemorySegment result) {
        long c = features.shape().dim(1);
        ReferenceParallel.forEach(out.elementCount(), out.elementCount() * cells.depth(), e -> {
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
    void interpolatePoints(DeviceArray features, MemorySegment in, PointVoxels voxels, DeviceArray out,
                           MemorySegment result) {
        long c = features.shape().dim(1);
        ReferenceParallel.forEach(out.shape().dim(0), out.elementCount() * 8, i -> {
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

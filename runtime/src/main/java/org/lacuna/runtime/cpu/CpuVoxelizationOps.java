package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
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
 * The voxelisation family of the serving CPU backend: {@link CpuVoxelizer} for voxelisation (exact, shared with the
 * reference), and pooling, the bird's-eye view and devoxelisation in fp32 on the backend's threads. Work is split
 * into chunks of outputs whose size does not depend on the thread count, and each output is reduced by one thread in
 * one fixed order (rows in row order, z in ascending z, corners in corner order), so results are the same bit for
 * bit with 1 or N threads.
 */
final class CpuVoxelizationOps implements VoxelizationOps {
    /** Outputs per parallel chunk. */
    private static final int CHUNK = 1 << 12;

    private final CpuContext context;
    private final CpuVoxelizer voxelizer = new CpuVoxelizer();

    CpuVoxelizationOps(CpuContext context) {
        this.context = context;
    }

    @Override
    public VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization) {
        return voxelizer.voxelize(cloud, voxelization);
    }

    @Override
    public void batchPool(DeviceArray features, DeviceArray coordinates, BatchPooling pooling, DeviceArray out) {
        String call = "batchPool";
        VoxelizationContracts.batchPool(CpuBackendProvider.NAME, features, coordinates, pooling, out);
        int[] coords = SparseRows.coordinates(coordinates, call);
        MemorySegment in = segment(features, call);
        MemorySegment result = segment(out, call);
        int rows = coords.length / 4;
        int c = Math.toIntExact(features.shape().dim(1));
        long outputs = out.elementCount();
        forEachChunk(outputs, e -> {
            long b = e / c;
            int ch = (int) (e % c);
            float acc = pooling == BatchPooling.MEAN ? 0f : Float.NEGATIVE_INFINITY;
            int count = 0;
            for (int r = 0; r < rows; r++) {
                if (coords[4 * r] != b) {
                    continue;
                }
                float v = CpuElements.read(in, features.byteOffset(), features.dtype(), (long) r * c + ch);
                acc = pooling == BatchPooling.MEAN ? acc + v : max(acc, v);
                count++;
            }
            float value = count == 0 ? 0f : pooling == BatchPooling.MEAN ? acc / count : acc;
            CpuElements.write(result, out.byteOffset(), out.dtype(), e, value);
        });
    }

    @Override
    public void bevProject(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, BevGrid grid,
                           BevReduction reduction, DeviceArray out) {
        String call = "bevProject";
        VoxelizationContracts.bevProject(CpuBackendProvider.NAME, features, coordinates, tensorStride, grid,
                reduction, out);
        long batches = out.shape().dim(0);
        int[] index = SparseRows.bevIndex(SparseRows.coordinates(coordinates, call), tensorStride, grid, batches,
                call);
        MemorySegment in = segment(features, call);
        MemorySegment result = segment(out, call);
        long c = features.shape().dim(1);
        int cz = grid.cells().z();
        long plane = (long) grid.cells().y() * grid.cells().x();
        long outChannels = grid.outputChannels(c, reduction);
        forEachChunk(out.elementCount(), e -> {
            long pixel = e % plane;
            long channel = e / plane % outChannels;
            long b = e / (plane * outChannels);
            float value = 0f;
            if (reduction == BevReduction.STACK_Z) {
                long ch = channel / cz;
                int row = index[(int) ((b * cz + channel % cz) * plane + pixel)];
                if (row >= 0) {
                    value = CpuElements.read(in, features.byteOffset(), features.dtype(), row * c + ch);
                }
            } else {
                boolean seen = false;
                for (int z = 0; z < cz; z++) {
                    int row = index[(int) ((b * cz + z) * plane + pixel)];
                    if (row < 0) {
                        continue;
                    }
                    float v = CpuElements.read(in, features.byteOffset(), features.dtype(), row * c + channel);
                    value = reduction == BevReduction.SUM ? value + v : seen ? max(value, v) : v;
                    seen = true;
                }
            }
            CpuElements.write(result, out.byteOffset(), out.dtype(), e, value);
        });
    }

    @Override
    public void devoxelize(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, DeviceArray points,
                           DeviceArray pointBatches, Voxelization voxelization, PointInterpolation interpolation,
                           DeviceArray out) {
        String call = "devoxelize";
        VoxelizationContracts.devoxelize(CpuBackendProvider.NAME, features, coordinates, tensorStride, points,
                pointBatches, voxelization, interpolation, out);
        PointVoxels voxels = new PointVoxels(SparseRows.keys(SparseRows.coordinates(coordinates, call)),
                tensorStride, voxelization, interpolation);
        float[] xyz = SparseRows.floats(points, call);
        int[] batches = SparseRows.coordinates(pointBatches, call);
        MemorySegment in = segment(features, call);
        MemorySegment result = segment(out, call);
        long c = features.shape().dim(1);
        long p = points.shape().dim(0);
        int pointsPerChunk = (int) Math.max(1, CHUNK / Math.max(1, c));
        context.threads().forEach(CpuThreads.chunks(p, pointsPerChunk), chunk -> {
            int[] rows = new int[8];
            double[] weights = new double[8];
            float[] normalised = new float[8];
            long end = Math.min(p, (long) (chunk + 1) * pointsPerChunk);
            for (long i = (long) chunk * pointsPerChunk; i < end; i++) {
                int k = (int) i;
                int found = voxels.corners(xyz[3 * k], xyz[3 * k + 1], xyz[3 * k + 2], batches[k], rows, weights);
                double total = 0;
                for (int j = 0; j < found; j++) {
                    total += weights[j];
                }
                for (int j = 0; j < found; j++) {
                    normalised[j] = (float) (weights[j] / total);
                }
                for (long ch = 0; ch < c; ch++) {
                    float acc = 0f;
                    for (int j = 0; j < found; j++) {
                        acc += normalised[j] * CpuElements.read(in, features.byteOffset(), features.dtype(),
                                rows[j] * c + ch);
                    }
                    CpuElements.write(result, out.byteOffset(), out.dtype(), i * c + ch, acc);
                }
            }
        });
    }

    /** {@link Math#max} for floats: a NaN propagates. */
    static float max(float acc, float v) {
        return v > acc || Float.isNaN(v) ? v : acc;
    }

    @FunctionalInterface
    private interface Output {
        void compute(long index);
    }

    /** Every output index, in chunks of a fixed size spread over the backend's threads. */
    private void forEachChunk(long outputs, Output body) {
        context.threads().forEach(CpuThreads.chunks(outputs, CHUNK), chunk -> {
            long end = Math.min(outputs, (long) (chunk + 1) * CHUNK);
            for (long e = (long) chunk * CHUNK; e < end; e++) {
                body.compute(e);
            }
        });
    }

    private static MemorySegment segment(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).segment(call);
    }
}

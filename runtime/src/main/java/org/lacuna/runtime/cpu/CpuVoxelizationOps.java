package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.function.LongFunction;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.ops.BatchPooling;
import org.lacuna.runtime.ops.BevReduction;

/**
 * The voxelisation family of the serving CPU backend: {@link CpuVoxelizer} for voxelisation (exact, shared with the
 * reference), and pooling, the bird's-eye view and devoxelisation in fp32 on the backend's threads. Work is split
 * into chunks of outputs whose size does not depend on the thread count, and each output is reduced by one thread in
 * one fixed order (rows in row order, z in ascending z, corners in corner order), so results are the same bit for
 * bit with 1 or N threads.
 */
final class CpuVoxelizationOps extends HostVoxelizationOps {
    /** Outputs per parallel chunk. */
    private static final int CHUNK = 1 << 12;

    private final CpuContext context;

    CpuVoxelizationOps(CpuContext context, LongFunction<DeviceBuffer> memory) {
        // On the backend's threads (lacuna.cpu.threads, shut down with it), not the common fork/join pool.
        super(CpuBackendProvider.NAME, memory,
                new CpuVoxelizer(context.threads(), CpuVoxelizer.DEFAULT_PARALLEL_THRESHOLD));
        this.context = context;
    }

    @Override
    void poolSamples(DeviceArray features, MemorySegment in, SampleRows samples, BatchPooling pooling,
                     DeviceArray out, MemorySegment result) {
        // long: a row index times the channels overflows an int on large inputs.
        long c = features.shape().dim(1);
        forEachChunk(out.elementCount(), () -> null, (e, unused) -> {
            int b = (int) (e / c);
            long ch = e % c;
            int count = samples.count(b);
            float acc = pooling == BatchPooling.MEAN ? 0f : Float.NEGATIVE_INFINITY;
            for (int k = 0; k < count; k++) {
                float v = CpuElements.read(in, features.byteOffset(), features.dtype(), samples.row(b, k) * c + ch);
                acc = pooling == BatchPooling.MEAN ? acc + v : max(acc, v);
            }
            float value = count == 0 ? 0f : pooling == BatchPooling.MEAN ? acc / count : acc;
            CpuElements.write(result, out.byteOffset(), out.dtype(), e, value);
        });
    }

    @Override
    void projectCells(DeviceArray features, MemorySegment in, BevCells cells, BevReduction reduction,
                      DeviceArray out, MemorySegment result) {
        long c = features.shape().dim(1);
        forEachChunk(out.elementCount(), () -> new int[cells.depth()], (e, rows) -> {
            int found = cells.rows(e, rows);
            long channel = cells.channel(e);
            float value = 0f;
            for (int k = 0; k < found; k++) {
                float v = CpuElements.read(in, features.byteOffset(), features.dtype(), rows[k] * c + channel);
                value = k == 0 ? v : reduction == BevReduction.SUM ? value + v : max(value, v);
            }
            CpuElements.write(result, out.byteOffset(), out.dtype(), e, value);
        });
    }

    @Override
    void interpolatePoints(DeviceArray features, MemorySegment in, PointVoxels voxels, DeviceArray out,
                           MemorySegment result) {
        long c = features.shape().dim(1);
        long p = out.shape().dim(0);
        int pointsPerChunk = (int) Math.max(1, CHUNK / Math.max(1, c));
        context.threads().forEach(CpuThreads.chunks(p, pointsPerChunk), chunk -> {
            int[] rows = new int[8];
            double[] weights = new double[8];
            float[] normalised = new float[8];
            long end = Math.min(p, (long) (chunk + 1) * pointsPerChunk);
            for (long i = (long) chunk * pointsPerChunk; i < end; i++) {
                int k = (int) i;
                int found = voxels.corners(k, rows, weights);
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
    private interface Output<S> {
        void compute(long index, S scratch);
    }

    /** Every output index, in chunks of a fixed size spread over the backend's threads, with scratch per chunk. */
    private <S> void forEachChunk(long outputs, java.util.function.Supplier<S> scratch, Output<S> body) {
        context.threads().forEach(CpuThreads.chunks(outputs, CHUNK), chunk -> {
            S own = scratch.get();
            long end = Math.min(outputs, (long) (chunk + 1) * CHUNK);
            for (long e = (long) chunk * CHUNK; e < end; e++) {
                body.compute(e, own);
            }
        });
    }
}

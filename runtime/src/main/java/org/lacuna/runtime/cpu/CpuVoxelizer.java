package org.lacuna.runtime.cpu;

import java.util.function.IntConsumer;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizationErrors;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;

/**
 * The voxeliser of both CPU backends and the reference every other backend's is checked against (exact in any
 * precision: its reductions are firsts and double sums in input order, so the serving backend and the reference
 * share it). Compute every point's key, sort the keys stably carrying the point indices
 * ({@link KeySort}), read the distinct voxels and each point's voxel off the sorted run, then reduce each voxel's
 * points, which the stable sort leaves in input order. Key computation and reduction run on the serving backend's
 * own worker threads ({@link CpuThreads}: sized by {@code lacuna.cpu.threads}, closed with the backend) for clouds
 * large enough to pay for it; the radix sort is sequential. The result is the same for any thread count, since each
 * voxel is reduced by one thread in input order.
 */
public final class CpuVoxelizer {
    /** Below this many points the fork/join overhead outweighs what the threads save. */
    static final int DEFAULT_PARALLEL_THRESHOLD = 1 << 15;
    /** Points (or voxels) per parallel chunk: chunk boundaries never depend on the thread count. */
    static final int GRAIN = 1 << 13;

    private final CpuThreads threads;
    private final int parallelThreshold;

    /** A voxeliser on the calling thread only (the reference backend's; code without a backend). */
    public CpuVoxelizer() {
        this(CpuThreads.CALLER, Integer.MAX_VALUE);
    }

    /** On {@code threads} for clouds of at least {@code parallelThreshold} points (0: always). */
    CpuVoxelizer(CpuThreads threads, int parallelThreshold) {
        this.threads = threads;
        this.parallelThreshold = parallelThreshold;
    }

    /** A voxeliser that uses the calling thread only (benchmarks compare it with the parallel one). */
    public static CpuVoxelizer sequential() {
        return new CpuVoxelizer();
    }

    /** The voxels of {@code cloud}, as {@link org.lacuna.runtime.ops.VoxelizationOps#voxelize} documents. */
    public VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization) {
        VoxelizationErrors.requireInput(cloud, voxelization);
        int n = cloud.size();
        boolean parallel = n >= parallelThreshold;

        // An invalid point gets the EMPTY key, the largest of all, so it sorts last.
        long[] pointKeys = new long[n];
        float[] xs = cloud.xs();
        float[] ys = cloud.ys();
        float[] zs = cloud.zs();
        double sx = voxelization.sizeX();
        double sy = voxelization.sizeY();
        double sz = voxelization.sizeZ();
        forEach(n, parallel, i -> pointKeys[i] = keyOf(cloud.batchIndex(i), xs[i], ys[i], zs[i], sx, sy, sz));

        KeySort.Sorted sorted = KeySort.sort(pointKeys);
        long[] keys = sorted.keys();
        int[] members = sorted.indices();
        if (keys[n - 1] == CoordinateKey.EMPTY) {
            throw VoxelizationErrors.invalidPoint(cloud, firstInvalid(pointKeys), voxelization);
        }

        int m = 1;
        for (int j = 1; j < n; j++) {
            if (keys[j] != keys[j - 1]) {
                m++;
            }
        }
        long[] voxelKeys = new long[m];
        int[] counts = new int[m];
        int[] start = new int[m + 1];
        int[] pointToVoxel = new int[n];
        voxelKeys[0] = keys[0];
        for (int j = 0, v = 0; j < n; j++) {
            if (keys[j] != voxelKeys[v]) {
                start[++v] = j;
                voxelKeys[v] = keys[j];
            }
            counts[v]++;
            pointToVoxel[members[j]] = v;
        }
        start[m] = n;

        int c = cloud.channelCount();
        float[][] channelValues = new float[c][];
        for (int k = 0; k < c; k++) {
            channelValues[k] = cloud.channel(k);
        }
        float[] positions = new float[3 * m];
        float[] channels = new float[c * m];
        VoxelReduction reduction = voxelization.reduction();
        forEach(m, parallel, v -> {
            if (reduction == VoxelReduction.FIRST) {
                int p = members[start[v]];
                positions[3 * v] = xs[p];
                positions[3 * v + 1] = ys[p];
                positions[3 * v + 2] = zs[p];
                for (int k = 0; k < c; k++) {
                    channels[c * v + k] = channelValues[k][p];
                }
            } else {
                positions[3 * v] = mean(xs, members, start[v], start[v + 1]);
                positions[3 * v + 1] = mean(ys, members, start[v], start[v + 1]);
                positions[3 * v + 2] = mean(zs, members, start[v], start[v + 1]);
                for (int k = 0; k < c; k++) {
                    channels[c * v + k] = mean(channelValues[k], members, start[v], start[v + 1]);
                }
            }
        });
        return new VoxelizedCloud(voxelization, cloud.channelNames(), voxelKeys, positions, channels, counts,
                pointToVoxel);
    }

    /** The key of the point's voxel, or {@link CoordinateKey#EMPTY} if a coordinate is non-finite or out of range. */
    public static long keyOf(int batch, float x, float y, float z, double sizeX, double sizeY, double sizeZ) {
        return Voxelization.key(batch, x, y, z, sizeX, sizeY, sizeZ);
    }

    private static float mean(float[] values, int[] members, int from, int to) {
        double sum = 0;
        for (int j = from; j < to; j++) {
            sum += values[members[j]];
        }
        return (float) (sum / (to - from));
    }

    private void forEach(int count, boolean parallel, IntConsumer body) {
        if (parallel) {
            threads.forEach(CpuThreads.chunks(count, GRAIN), chunk -> {
                for (int i = chunk * GRAIN, end = Math.min(count, i + GRAIN); i < end; i++) {
                    body.accept(i);
                }
            });
        } else {
            for (int i = 0; i < count; i++) {
                body.accept(i);
            }
        }
    }

    /** The lowest invalid index, found after the fact so the message does not depend on thread timing. */
    private static int firstInvalid(long[] pointKeys) {
        for (int i = 0; i < pointKeys.length; i++) {
            if (pointKeys[i] == CoordinateKey.EMPTY) {
                return i;
            }
        }
        throw new IllegalStateException("no invalid point");
    }

}

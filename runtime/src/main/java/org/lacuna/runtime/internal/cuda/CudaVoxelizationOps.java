package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemsetD8Async;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.memory.CachingPool;
import org.lacuna.runtime.ops.VoxelizationOps;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizationErrors;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.sparseconv.CoordinateIndex;

/**
 * The voxeliser on the GPU ({@code voxelize.cu}), returning exactly what {@link
 * org.lacuna.runtime.cpu.CpuVoxelizer} returns, bit for bit by construction (CudaVoxelizationOpsGpuTest checks it on
 * a GPU; no such run is recorded yet). Per point the key in the reference's formula
 * (or the first invalid point, which fails the call with the reference's message); a device hash table of the keys
 * gives each point its slot and each slot its count and first point; the M distinct keys come to the host, which
 * sorts them in {@link CoordinateKey#compare} order and sends each its rank. For MEAN each voxel's points are
 * bucketed and put back in input order (on the device, or on the host when one voxel holds more than {@link
 * #DEVICE_SORT_LIMIT} points, where the device's quadratic per-voxel sort would cost more than the host's linear
 * pass), then summed in double in that order; FIRST reads each voxel's first point.
 */
final class CudaVoxelizationOps implements VoxelizationOps {
    private static final String CALL = VoxelizationErrors.CALL;
    private static final String FILE = "voxelize.cu";
    private static final int BLOCK = 256;
    /** The longest point list per voxel that the device sorts (one warp, count × count / 32 comparisons). */
    static final int DEVICE_SORT_LIMIT = 1024;

    private final KernelModules modules;
    private final StreamHandle stream;
    private final CachingPool pool;
    private final PinnedStaging staging;
    private final int multiprocessors;
    private final Map<String, String> constants = Map.of("BLOCK", Integer.toString(BLOCK));

    CudaVoxelizationOps(KernelModules modules, StreamHandle stream, CachingPool pool, PinnedStaging staging,
                  int multiprocessors) {
        this.modules = modules;
        this.stream = stream;
        this.pool = pool;
        this.staging = staging;
        this.multiprocessors = multiprocessors;
    }

    @Override
    public VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization) {
        VoxelizationErrors.requireInput(cloud, voxelization);
        int n = cloud.size();
        int c = cloud.channelCount();
        if ((long) c * n > Integer.MAX_VALUE - 8) {
            throw new NotSupportedException(CALL, n + " points × " + c + " channels exceed a 2^31-element upload");
        }
        long capacity = CoordinateIndex.capacityFor(n);
        try (CallWorkspace workspace = new CallWorkspace(pool, staging, stream)) {
            long xs = workspace.upload(cloud.xs());
            long ys = workspace.upload(cloud.ys());
            long zs = workspace.upload(cloud.zs());
            float[] channelHost = new float[c * n];
            for (int k = 0; k < c; k++) {
                System.arraycopy(cloud.channel(k), 0, channelHost, k * n, n);
            }
            long channels = workspace.upload(channelHost);
            long batches = workspace.upload(cloud.batchIndices());

            long keys = workspace.acquire((long) n * Long.BYTES);
            long bad = workspace.upload(new int[] {Integer.MAX_VALUE});
            launch("voxel_keys", n, new KernelArguments().address(xs).address(ys).address(zs).address(batches).i64(n)
                    .f64(voxelization.sizeX()).f64(voxelization.sizeY()).f64(voxelization.sizeZ()).address(keys)
                    .address(bad));
            int firstBad = workspace.downloadInts(bad, 1)[0];
            if (firstBad != Integer.MAX_VALUE) {
                throw VoxelizationErrors.invalidPoint(cloud, firstBad, voxelization);
            }

            long slots = workspace.acquire(capacity * Long.BYTES);
            long slotCount = workspace.acquire(capacity * Integer.BYTES);
            long slotFirst = workspace.acquire(capacity * Integer.BYTES);
            long pointSlot = workspace.acquire((long) n * Long.BYTES);
            memset(slots, (byte) 0xFF, capacity * Long.BYTES);
            memset(slotCount, (byte) 0, capacity * Integer.BYTES);
            memset(slotFirst, (byte) 0xFF, capacity * Integer.BYTES);
            launch("voxel_insert", n, new KernelArguments().address(keys).i64(n).address(slots).i64(capacity)
                    .address(pointSlot).address(slotCount).address(slotFirst));

            long counter = workspace.upload(new int[] {0});
            long outKeys = workspace.acquire((long) n * Long.BYTES);
            long outSlots = workspace.acquire((long) n * Long.BYTES);
            launch("voxel_compact", capacity, new KernelArguments().address(slots).i64(capacity).address(counter)
                    .address(outKeys).address(outSlots));
            int m = workspace.downloadInts(counter, 1)[0];
            long[] distinct = workspace.downloadLongs(outKeys, m);

            // Distinct keys: sorting the flipped keys (CoordinateKey.signedOrder) sorts them in compare order, and
            // each key's rank is its place in that order.
            long[] order = new long[m];
            for (int j = 0; j < m; j++) {
                order[j] = CoordinateKey.signedOrder(distinct[j]);
            }
            Arrays.sort(order);
            int[] ranks = new int[m];
            for (int j = 0; j < m; j++) {
                ranks[j] = Arrays.binarySearch(order, CoordinateKey.signedOrder(distinct[j]));
            }
            long[] voxelKeys = new long[m];
            for (int v = 0; v < m; v++) {
                voxelKeys[v] = CoordinateKey.signedOrder(order[v]);
            }

            long slotRank = workspace.acquire(capacity * Integer.BYTES);
            long voxelCount = workspace.acquire((long) m * Integer.BYTES);
            long voxelFirst = workspace.acquire((long) m * Integer.BYTES);
            launch("voxel_rank", m, new KernelArguments().address(outSlots).address(workspace.upload(ranks)).i64(m)
                    .address(slotCount).address(slotFirst).address(slotRank).address(voxelCount).address(voxelFirst));
            long pointVoxel = workspace.acquire((long) n * Integer.BYTES);
            launch("voxel_point_voxel", n, new KernelArguments().address(pointSlot).i64(n).address(slotRank)
                    .address(pointVoxel));
            int[] counts = workspace.downloadInts(voxelCount, m);
            int[] pointToVoxel = workspace.downloadInts(pointVoxel, n);

            long positions = workspace.acquire(3L * m * Float.BYTES);
            long outChannels = workspace.acquire((long) c * m * Float.BYTES);
            if (voxelization.reduction() == VoxelReduction.FIRST) {
                launch("voxel_first", m, new KernelArguments().address(voxelFirst).i64(m).address(xs).address(ys)
                        .address(zs).address(channels).i32(c).i64(n).address(positions).address(outChannels));
            } else {
                long[] start = new long[m + 1];
                int largest = 0;
                for (int v = 0; v < m; v++) {
                    start[v + 1] = start[v] + counts[v];
                    largest = Math.max(largest, counts[v]);
                }
                long startDevice = workspace.upload(start);
                long sorted;
                if (largest <= DEVICE_SORT_LIMIT) {
                    long fill = workspace.acquire((long) m * Integer.BYTES);
                    long members = workspace.acquire((long) n * Integer.BYTES);
                    sorted = workspace.acquire((long) n * Integer.BYTES);
                    memset(fill, (byte) 0, (long) m * Integer.BYTES);
                    launch("voxel_bucket", n, new KernelArguments().address(pointVoxel).i64(n).address(startDevice)
                            .address(fill).address(members));
                    // One warp per voxel: 32 × m threads' worth of blocks.
                    launch("voxel_bucket_sort", 32L * m, new KernelArguments().address(members).address(startDevice)
                            .i64(m).address(sorted));
                } else {
                    // A linear, stable counting pass: the lists in input order by construction.
                    int[] members = new int[n];
                    int[] fill = new int[m];
                    for (int i = 0; i < n; i++) {
                        int v = pointToVoxel[i];
                        members[(int) start[v] + fill[v]++] = i;
                    }
                    sorted = workspace.upload(members);
                }
                launch("voxel_mean", m, new KernelArguments().address(sorted).address(startDevice).i64(m).address(xs)
                        .address(ys).address(zs).address(channels).i32(c).i64(n).address(positions)
                        .address(outChannels));
            }
            float[] positionHost = workspace.downloadFloats(positions, 3 * m);
            float[] channelOut = workspace.downloadFloats(outChannels, c * m);
            return new VoxelizedCloud(voxelization, cloud.channelNames(), voxelKeys, positionHost, channelOut, counts,
                    pointToVoxel);
        }
    }

    private void launch(String entry, long work, KernelArguments arguments) {
        var function = modules.function(FILE, constants, entry);
        long grid = LaunchGrid.gridStrideAtLeastOne(work, BLOCK, (long) multiprocessors * 8);
        modules.launch(entry, function, grid, BLOCK, 0, stream, arguments);
    }

    private void memset(long address, byte value, long bytes) {
        CudaCalls.check("cuMemsetD8Async", cuMemsetD8Async(DevicePointer.at(address), value, bytes, stream));
    }


}

package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemsetD8Async;

import java.util.Map;
import jcuda.driver.CUdeviceptr;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.memory.CachingPool;
import org.lacuna.runtime.ops.BatchPooling;
import org.lacuna.runtime.ops.BevGrid;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.ops.VoxelizationContracts;
import org.lacuna.runtime.ops.VoxelizationOps;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizationErrors;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.sparseconv.CoordinateIndex;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * The voxelisation family on the GPU ({@code voxelize.cu}).
 *
 * <p>{@link #voxelize} returns exactly what {@link org.lacuna.runtime.cpu.CpuVoxelizer} returns, bit for bit by
 * construction (CudaVoxelizationOpsGpuTest checks it on a GPU, though no GPU run of it is recorded yet; in CI the
 * emulator runs the kernels as this class drives them against CpuVoxelizer's output). Per point the key in the reference's formula (or
 * the first invalid point, which fails the call with the reference's message); a device hash table of the keys gives
 * each point its slot and each slot its count and first point; the M distinct keys are radix-sorted on the device
 * into {@link org.lacuna.runtime.pointcloud.CoordinateKey} order, and each slot learns its rank. For MEAN the points
 * are radix-sorted by voxel (stable, so each voxel's list is in input order) and summed in double in that order;
 * FIRST reads each voxel's first point. Between the upload of the points and the download of the result only two
 * counts cross (whether a point is invalid, and M, which sizes the rest).
 *
 * <p>Pooling, the bird's-eye view and devoxelisation run on tensors already on the device, with no transfer.
 */
final class CudaVoxelizationOps implements VoxelizationOps {
    private static final String CALL = VoxelizationErrors.CALL;
    private static final String FILE = "voxelize.cu";
    private static final int BLOCK = 256;

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

            // The distinct keys in CoordinateKey (unsigned) order, each carrying its compaction index.
            Sorted voxels = radixSort(workspace, outKeys, m, Long.BYTES);
            long slotRank = workspace.acquire(capacity * Integer.BYTES);
            long voxelCount = workspace.acquire((long) m * Integer.BYTES);
            long voxelFirst = workspace.acquire((long) m * Integer.BYTES);
            launch("voxel_rank", m, new KernelArguments().address(outSlots).address(voxels.values()).i64(m)
                    .address(slotCount).address(slotFirst).address(slotRank).address(voxelCount).address(voxelFirst));
            long pointVoxel = workspace.acquire((long) n * Integer.BYTES);
            boolean mean = voxelization.reduction() == VoxelReduction.MEAN;
            long pointVoxelKey = mean ? workspace.acquire((long) n * Long.BYTES) : 0L;
            launch("voxel_point_voxel", n, new KernelArguments().address(pointSlot).i64(n).address(slotRank)
                    .address(pointVoxel).address(pointVoxelKey));

            long positions = workspace.acquire(3L * m * Float.BYTES);
            long outChannels = workspace.acquire((long) c * m * Float.BYTES);
            if (!mean) {
                launch("voxel_first", m, new KernelArguments().address(voxelFirst).i64(m).address(xs).address(ys)
                        .address(zs).address(channels).i32(c).i64(n).address(positions).address(outChannels));
            } else {
                // The points by voxel, stably: each voxel's list in input order. Voxel indices < m need only the
                // low bytes.
                Sorted lists = radixSort(workspace, pointVoxelKey, n, RadixSortLaunches.bytesFor(m - 1L));
                long start = workspace.acquire((m + 1L) * Long.BYTES);
                launch("voxel_list_starts", n, new KernelArguments().address(lists.keys()).i64(n).i64(m)
                        .address(start));
                launch("voxel_mean", m, new KernelArguments().address(lists.values()).address(start).i64(m)
                        .address(xs).address(ys).address(zs).address(channels).i32(c).i64(n).address(positions)
                        .address(outChannels));
            }
            long[] voxelKeys = workspace.downloadLongs(voxels.keys(), m);
            int[] counts = workspace.downloadInts(voxelCount, m);
            int[] pointToVoxel = workspace.downloadInts(pointVoxel, n);
            float[] positionHost = workspace.downloadFloats(positions, 3 * m);
            float[] channelOut = workspace.downloadFloats(outChannels, c * m);
            return new VoxelizedCloud(voxelization, cloud.channelNames(), voxelKeys, positionHost, channelOut, counts,
                    pointToVoxel);
        }
    }

    /** Sorted 64-bit keys and the int each carries (its index in the input). */
    private record Sorted(long keys, long values) {
    }

    /**
     * The shared device radix sort ({@link RadixSortLaunches}) of {@code count} 64-bit keys on their low
     * {@code bytes} bytes, carrying each key's input index, into call memory. The input is left as it is.
     */
    private Sorted radixSort(CallWorkspace workspace, long keys, long count, int bytes) {
        Sorted sorted = new Sorted(workspace.acquire(count * Long.BYTES), workspace.acquire(count * Integer.BYTES));
        for (KernelLaunch launch : new RadixSortLaunches(FILE, BLOCK, (long) multiprocessors * 8).sort(
                (name, size) -> workspace.acquire(size), keys, 0L, count, bytes, sorted.keys(), sorted.values())) {
            modules.launch(launch, stream);
        }
        return sorted;
    }

    @Override
    public void batchPool(DeviceArray features, DeviceArray coordinates, BatchPooling pooling, DeviceArray out) {
        String call = "batchPool";
        VoxelizationContracts.batchPool(CudaBackendProvider.NAME, features, coordinates, pooling, out);
        long outputs = out.elementCount();
        if (outputs == 0) {
            return;
        }
        launch("voxel_batch_pool_" + features.dtype().kernelName(), outputs, new KernelArguments()
                .pointer(pointer(features, call)).pointer(pointer(coordinates, call)).i64(features.shape().dim(0))
                .i64(features.shape().dim(1)).i64(out.shape().dim(0)).i32(pooling == BatchPooling.MEAN ? 1 : 0)
                .pointer(pointer(out, call)));
    }

    @Override
    public void bevProject(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, BevGrid grid,
                           BevReduction reduction, DeviceArray out) {
        String call = "bevProject";
        VoxelizationContracts.bevProject(CudaBackendProvider.NAME, features, coordinates, tensorStride, grid,
                reduction, out);
        long batches = out.shape().dim(0);
        if (out.elementCount() == 0) {
            return;
        }
        Int3 cells = grid.cells();
        long indexBytes = batches * cells.product() * Integer.BYTES;
        try (CallWorkspace workspace = new CallWorkspace(pool, staging, stream)) {
            long index = workspace.acquire(indexBytes);
            memset(index, (byte) 0xFF, indexBytes);
            launch("voxel_bev_index", features.shape().dim(0), new KernelArguments()
                    .pointer(pointer(coordinates, call)).i64(features.shape().dim(0)).i32(grid.origin().x())
                    .i32(grid.origin().y()).i32(grid.origin().z()).i32(tensorStride.x()).i32(tensorStride.y())
                    .i32(tensorStride.z()).i32(cells.x()).i32(cells.y()).i32(cells.z()).i64(batches).address(index));
            launch("voxel_bev_gather_" + features.dtype().kernelName(), out.elementCount(), new KernelArguments()
                    .pointer(pointer(features, call)).address(index).i64(features.shape().dim(1)).i64(batches)
                    .i32(cells.x()).i32(cells.y()).i32(cells.z()).i32(reduction.ordinal())
                    .pointer(pointer(out, call)));
        }
    }

    @Override
    public void devoxelize(DeviceArray features, DeviceArray coordinates, Int3 tensorStride, DeviceArray points,
                           DeviceArray pointBatches, Voxelization voxelization, PointInterpolation interpolation,
                           DeviceArray out) {
        String call = "devoxelize";
        VoxelizationContracts.devoxelize(CudaBackendProvider.NAME, features, coordinates, tensorStride, points,
                pointBatches, voxelization, interpolation, out);
        long p = points.shape().dim(0);
        if (p == 0) {
            return;
        }
        long rows = features.shape().dim(0);
        long capacity = CoordinateIndex.capacityFor(rows);
        try (CallWorkspace workspace = new CallWorkspace(pool, staging, stream)) {
            long slots = workspace.acquire(capacity * Long.BYTES);
            long slotRow = workspace.acquire(capacity * Integer.BYTES);
            memset(slots, (byte) 0xFF, capacity * Long.BYTES);
            launch("voxel_table_insert", rows, new KernelArguments().pointer(pointer(coordinates, call)).i64(rows)
                    .address(slots).address(slotRow).i64(capacity));
            launch("voxel_devoxelize_" + features.dtype().kernelName(), p, new KernelArguments()
                    .pointer(pointer(points, call)).pointer(pointer(pointBatches, call)).i64(p)
                    .f64(voxelization.sizeX()).f64(voxelization.sizeY()).f64(voxelization.sizeZ())
                    .i32(tensorStride.x()).i32(tensorStride.y()).i32(tensorStride.z()).address(slots)
                    .address(slotRow).i64(capacity).pointer(pointer(features, call)).i64(features.shape().dim(1))
                    .i32(interpolation == PointInterpolation.TRILINEAR ? 1 : 0).pointer(pointer(out, call)));
        }
    }

    /** A grid-stride launch over {@code work} items. */
    private void launch(String entry, long work, KernelArguments arguments) {
        long grid = LaunchGrid.gridStrideAtLeastOne(work, BLOCK, (long) multiprocessors * 8);
        modules.launch(entry, modules.function(FILE, constants, entry), grid, BLOCK, 0, stream, arguments);
    }

    private void memset(long address, byte value, long bytes) {
        CudaCalls.check("cuMemsetD8Async", cuMemsetD8Async(DevicePointer.at(address), value, bytes, stream));
    }

    private static CUdeviceptr pointer(DeviceArray array, String call) {
        return ((CudaBuffer) array.buffer()).pointer(call, array.byteOffset());
    }
}

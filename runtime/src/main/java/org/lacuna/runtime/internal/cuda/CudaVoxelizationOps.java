package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD16Async;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.memory.CachingPool;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.BatchPooling;
import org.lacuna.runtime.ops.BevGrid;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.ops.VoxelizationContracts;
import org.lacuna.runtime.ops.VoxelizationOps;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.ResidentVoxels;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
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
 * counts cross, counted as size reads (whether a point is invalid, and M, which sizes the rest). {@link
 * #voxelizeResident} downloads only the M keys (the coordinate set's host description) and leaves the keys and the
 * features on the device for the sparse tensor that takes them.
 *
 * <p>Pooling, the bird's-eye view and devoxelisation run on tensors already on the device, with no transfer.
 */
final class CudaVoxelizationOps extends PooledCudaOps implements VoxelizationOps {
    private static final String CALL = VoxelizationErrors.CALL;
    private static final String FILE = "voxelize.cu";
    private static final int BLOCK = 256;

    private final Map<String, String> constants = Map.of("BLOCK", Integer.toString(BLOCK));

    CudaVoxelizationOps(KernelModules modules, StreamHandle stream, CachingPool pool, PinnedStaging staging,
                        int multiprocessors, ElementwiseOps elementwise) {
        // The elementwise ops concatenate and cast the resident voxels' features.
        super(modules, stream, pool, staging, multiprocessors, elementwise);
    }

    @Override
    public VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization) {
        VoxelizationErrors.requireInput(cloud, voxelization);
        return onDevice(cloud, voxelization, (workspace, d) -> {
            int m = d.voxels();
            int c = d.channelCount();
            long[] voxelKeys = workspace.downloadLongs(d.keys(), m);
            int[] counts = workspace.downloadInts(d.counts(), m);
            int[] pointToVoxel = workspace.downloadInts(d.pointVoxel(), cloud.size());
            float[] positionHost = workspace.downloadFloats(d.positions(), 3 * m);
            float[] channelOut = workspace.downloadFloats(d.channels(), c * m);
            return new VoxelizedCloud(voxelization, cloud.channelNames(), voxelKeys, positionHost, channelOut, counts,
                    pointToVoxel);
        });
    }

    /**
     * The voxels stay on the device: the keys are copied into an array of their own on the device and downloaded
     * once (the coordinate set's host description), the features are assembled from the reduced positions and
     * channels on the device (concatenated, cast or filled) into an array of their own. Counts and point-to-voxel
     * are not needed by a sparse tensor and stay behind in the call's workspace.
     */
    @Override
    public ResidentVoxels voxelizeResident(PointCloud cloud, Voxelization voxelization, VoxelFeatures features,
                                           DType featureType) {
        VoxelizationErrors.requireResidentInput(cloud, voxelization, features, featureType);
        return onDevice(cloud, voxelization, (workspace, d) -> {
            int m = d.voxels();
            // The host's description of the coordinates: every size and kernel map is derived from it.
            long[] hostKeys = workspace.downloadLongs(d.keys(), m);
            CudaBuffer keys = persistent((long) m * Long.BYTES);
            CudaBuffer out = null;
            try {
                copy(d.keys(), keys.pointer(CALL, 0), (long) m * Long.BYTES);
                long width = features.width(d.channelCount());
                out = persistent(m * width * featureType.byteSize());
                DeviceArray outArray = new DeviceArray(out, 0, featureType, Shape.of(m, width));
                writeFeatures(d, features, outArray);
                return new ResidentVoxels(voxelization, features, hostKeys,
                        new DeviceArray(keys, 0, DType.I64, Shape.of(m)), outArray, cloud.size());
            } catch (RuntimeException e) {
                throw Closer.closeAfter(e, keys, out);
            }
        });
    }

    /**
     * {@code out} [M, width] of the feature type: the selection of the voxels' fp32 positions and channels (in the
     * call's workspace, copied on the device where an op needs them as arrays of their own).
     */
    private void writeFeatures(DeviceVoxels d, VoxelFeatures features, DeviceArray out) {
        long m = d.voxels();
        int c = d.channelCount();
        boolean withChannels = c > 0 && features == VoxelFeatures.POSITIONS_AND_CHANNELS;
        if (features == VoxelFeatures.OCCUPANCY) {
            fillOnes(out);
        } else if (out.dtype() == DType.F32 && !withChannels) {
            copy(features == VoxelFeatures.CHANNELS ? d.channels() : d.positions(), pointer(out, CALL), out.byteSize());
        } else {
            List<CudaBuffer> temporaries = new ArrayList<>();
            try {
                DeviceArray source = features == VoxelFeatures.CHANNELS ? copied(d.channels(), Shape.of(m, c),
                        temporaries) : copied(d.positions(), Shape.of(m, 3), temporaries);
                if (withChannels) {
                    DeviceArray channels = copied(d.channels(), Shape.of(m, c), temporaries);
                    DeviceArray both = out.dtype() == DType.F32 ? out : array(Shape.of(m, 3L + c), temporaries);
                    elementwise.concatColumns(source, channels, both);
                    source = both;
                }
                if (source != out) {
                    elementwise.cast(source, out);
                }
            } finally {
                // Freed to the pool at once: later users of the blocks are issued after these launches.
                Closer.closeAll("voxelizeResident", temporaries);
            }
        }
    }

    /** A device copy of the F32 {@code shape} at {@code address} in a temporary buffer of its own. */
    private DeviceArray copied(long address, Shape shape, List<CudaBuffer> temporaries) {
        DeviceArray out = array(shape, temporaries);
        copy(address, pointer(out, CALL), out.byteSize());
        return out;
    }

    /** A temporary F32 array of {@code shape}. */
    private DeviceArray array(Shape shape, List<CudaBuffer> temporaries) {
        CudaBuffer buffer = persistent(shape.elementCount() * Float.BYTES);
        temporaries.add(buffer);
        return new DeviceArray(buffer, 0, DType.F32, shape);
    }

    private void copy(long from, CUdeviceptr to, long bytes) {
        if (bytes > 0) {
            CudaCalls.check("cuMemcpyDtoDAsync", cuMemcpyDtoDAsync(to, DevicePointer.at(from), bytes, stream));
        }
    }

    /** 1.0 in every element of {@code out}, by the bit pattern of 1.0 in its type. */
    private void fillOnes(DeviceArray out) {
        long count = out.elementCount();
        switch (out.dtype()) {
            case F32 -> CudaCalls.check("cuMemsetD32Async", cuMemsetD32Async(pointer(out, CALL),
                    Float.floatToRawIntBits(1f), count, stream));
            case F16 -> CudaCalls.check("cuMemsetD16Async", cuMemsetD16Async(pointer(out, CALL),
                    HalfFloats.toF16(1f), count, stream));
            case BF16 -> CudaCalls.check("cuMemsetD16Async", cuMemsetD16Async(pointer(out, CALL),
                    HalfFloats.toBf16(1f), count, stream));
            default -> throw new IllegalStateException(out.dtype() + " features");
        }
    }

    /**
     * What the device computed for a cloud, for a {@link Finish} to take away before the call's workspace is freed:
     * device addresses of the M keys in CoordinateKey order (I64), the points per voxel (I32 [M]), each point's
     * voxel (I32 [N]), and the reduced positions (F32 [M, 3]) and channels (F32 [M, C]).
     */
    private record DeviceVoxels(int voxels, int channelCount, long keys, long counts, long pointVoxel,
                                long positions, long channels) {
    }

    /** What a voxelisation hands back, made from the device's results while the workspace still holds them. */
    @FunctionalInterface
    private interface Finish<T> {
        T take(CallWorkspace workspace, DeviceVoxels voxels);
    }

    /**
     * Voxelises on the device and hands the results to {@code finish}. Between the upload of the points and the
     * finish, two ints cross, as size reads: whether a point is invalid, and M, which sizes the rest.
     */
    private <T> T onDevice(PointCloud cloud, Voxelization voxelization, Finish<T> finish) {
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
            int firstBad = workspace.readSizeInts(bad, 1)[0];
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
            int m = workspace.readSizeInts(counter, 1)[0];

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
            return finish.take(workspace, new DeviceVoxels(m, c, voxels.keys(), voxelCount, pointVoxel, positions,
                    outChannels));
        }
    }

    /** Sorted 64-bit keys and the int each carries (its index in the input). */
    private record Sorted(long keys, long values) {
    }

    /**
     * The sort {@link PooledCudaOps#radixSort} with voxelize.cu's copy of the kernels, into call memory: the keys and
     * each one's input index.
     */
    private Sorted radixSort(CallWorkspace workspace, long keys, long count, int bytes) {
        Sorted sorted = new Sorted(workspace.acquire(count * Long.BYTES), workspace.acquire(count * Integer.BYTES));
        radixSort(FILE, BLOCK, workspace, keys, count, bytes, sorted.keys(), sorted.values());
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

    private static CUdeviceptr pointer(DeviceArray array, String call) {
        return ((CudaBuffer) array.buffer()).pointer(call, array.byteOffset());
    }
}

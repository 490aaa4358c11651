package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import jcuda.Pointer;
import org.lacuna.runtime.InvalidInputException;
import org.lacuna.runtime.NotSupportedException;
import org.lacuna.runtime.memory.CachingPool;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.pointcloud.Voxelizer;
import org.lacuna.runtime.sparseconv.CoordinateIndex;

/**
 * The voxeliser on the GPU ({@code voxelize.cu}), returning exactly what {@link
 * org.lacuna.runtime.pointcloud.CpuVoxelizer} returns, bit for bit. Per point the key in the reference's formula
 * (or the first invalid point, which fails the call with the reference's message); a device hash table of the keys
 * gives each point its slot and each slot its count and first point; the M distinct keys come to the host, which
 * sorts them in {@link CoordinateKey#compare} order and sends each its rank. For MEAN each voxel's points are
 * bucketed and put back in input order (on the device, or on the host when one voxel holds more than {@link
 * #DEVICE_SORT_LIMIT} points, where the device's quadratic per-voxel sort would cost more than the host's linear
 * pass), then summed in double in that order; FIRST reads each voxel's first point.
 */
final class CudaVoxelizer implements Voxelizer {
    private static final String CALL = "Voxelizer.voxelize";
    private static final String FILE = "voxelize.cu";
    private static final int BLOCK = 256;
    /** The longest point list per voxel that the device sorts (one warp, count × count / 32 comparisons). */
    static final int DEVICE_SORT_LIMIT = 1024;

    private final KernelModules modules;
    private final StreamHandle stream;
    private final CachingPool pool;
    private final int multiprocessors;
    private final Map<String, String> constants = Map.of("BLOCK", Integer.toString(BLOCK));

    CudaVoxelizer(KernelModules modules, StreamHandle stream, CachingPool pool, int multiprocessors) {
        this.modules = modules;
        this.stream = stream;
        this.pool = pool;
        this.multiprocessors = multiprocessors;
    }

    @Override
    public VoxelizedCloud voxelize(PointCloud cloud, Voxelization voxelization) {
        Objects.requireNonNull(cloud, "cloud");
        Objects.requireNonNull(voxelization, "voxelization");
        int n = cloud.size();
        if (n == 0) {
            throw InvalidInputException.argument(CALL, "the point cloud is empty: there is nothing to voxelise");
        }
        int c = cloud.channelCount();
        if ((long) c * n > Integer.MAX_VALUE - 8) {
            throw new NotSupportedException(CALL, n + " points × " + c + " channels exceed a 2^31-element upload");
        }
        long capacity = CoordinateIndex.capacityFor(n);
        List<CachingPool.Block> blocks = new ArrayList<>();
        try (Workspace workspace = new Workspace(blocks)) {
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
            launch("voxel_keys", n, ptr(xs), ptr(ys), ptr(zs), ptr(batches), Pointer.to(new long[] {n}),
                    Pointer.to(new double[] {voxelization.sizeX()}), Pointer.to(new double[] {voxelization.sizeY()}),
                    Pointer.to(new double[] {voxelization.sizeZ()}), ptr(keys), ptr(bad));
            int firstBad = workspace.downloadInts(bad, 1)[0];
            if (firstBad != Integer.MAX_VALUE) {
                throw invalidPoint(cloud, firstBad, voxelization);
            }

            long slots = workspace.acquire(capacity * Long.BYTES);
            long slotCount = workspace.acquire(capacity * Integer.BYTES);
            long slotFirst = workspace.acquire(capacity * Integer.BYTES);
            long pointSlot = workspace.acquire((long) n * Long.BYTES);
            memset(slots, (byte) 0xFF, capacity * Long.BYTES);
            memset(slotCount, (byte) 0, capacity * Integer.BYTES);
            memset(slotFirst, (byte) 0xFF, capacity * Integer.BYTES);
            launch("voxel_insert", n, ptr(keys), Pointer.to(new long[] {n}), ptr(slots),
                    Pointer.to(new long[] {capacity}), ptr(pointSlot), ptr(slotCount), ptr(slotFirst));

            long counter = workspace.upload(new int[] {0});
            long outKeys = workspace.acquire((long) n * Long.BYTES);
            long outSlots = workspace.acquire((long) n * Long.BYTES);
            launch("voxel_compact", capacity, ptr(slots), Pointer.to(new long[] {capacity}), ptr(counter),
                    ptr(outKeys), ptr(outSlots));
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
            launch("voxel_rank", m, ptr(outSlots), ptr(workspace.upload(ranks)), Pointer.to(new long[] {m}),
                    ptr(slotCount), ptr(slotFirst), ptr(slotRank), ptr(voxelCount), ptr(voxelFirst));
            long pointVoxel = workspace.acquire((long) n * Integer.BYTES);
            launch("voxel_point_voxel", n, ptr(pointSlot), Pointer.to(new long[] {n}), ptr(slotRank),
                    ptr(pointVoxel));
            int[] counts = workspace.downloadInts(voxelCount, m);
            int[] pointToVoxel = workspace.downloadInts(pointVoxel, n);

            long positions = workspace.acquire(3L * m * Float.BYTES);
            long outChannels = workspace.acquire((long) c * m * Float.BYTES);
            if (voxelization.reduction() == VoxelReduction.FIRST) {
                launch("voxel_first", m, ptr(voxelFirst), Pointer.to(new long[] {m}), ptr(xs), ptr(ys), ptr(zs),
                        ptr(channels), Pointer.to(new int[] {c}), Pointer.to(new long[] {n}), ptr(positions),
                        ptr(outChannels));
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
                    launch("voxel_bucket", n, ptr(pointVoxel), Pointer.to(new long[] {n}), ptr(startDevice),
                            ptr(fill), ptr(members));
                    // One warp per voxel: 32 × m threads' worth of blocks.
                    launch("voxel_bucket_sort", 32L * m, ptr(members), ptr(startDevice), Pointer.to(new long[] {m}),
                            ptr(sorted));
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
                launch("voxel_mean", m, ptr(sorted), ptr(startDevice), Pointer.to(new long[] {m}), ptr(xs), ptr(ys),
                        ptr(zs), ptr(channels), Pointer.to(new int[] {c}), Pointer.to(new long[] {n}),
                        ptr(positions), ptr(outChannels));
            }
            float[] positionHost = workspace.downloadFloats(positions, 3 * m);
            float[] channelOut = workspace.downloadFloats(outChannels, c * m);
            return new VoxelizedCloud(voxelization, cloud.channelNames(), voxelKeys, positionHost, channelOut, counts,
                    pointToVoxel);
        }
    }

    private void launch(String entry, long work, Pointer... arguments) {
        var function = modules.function(FILE, constants, entry);
        long grid = Math.max(1, Math.min((work + BLOCK - 1) / BLOCK, (long) multiprocessors * 8));
        modules.launch(entry, function, grid, BLOCK, 0, stream, Pointer.to(arguments));
    }

    private void memset(long address, byte value, long bytes) {
        CudaCalls.check("cuMemsetD8Async", cuMemsetD8Async(DevicePointer.at(address), value, bytes, stream));
    }

    private static Pointer ptr(long address) {
        return Pointer.to(DevicePointer.at(address));
    }

    /** The reference's message for its first invalid point (CpuVoxelizer.invalidPoint). */
    private static InvalidInputException invalidPoint(PointCloud cloud, int point, Voxelization voxelization) {
        float[] p = {cloud.x(point), cloud.y(point), cloud.z(point)};
        double[] sizes = {voxelization.sizeX(), voxelization.sizeY(), voxelization.sizeZ()};
        String[] axes = {"x", "y", "z"};
        for (int a = 0; a < 3; a++) {
            if (!Float.isFinite(p[a])) {
                return InvalidInputException.argument(CALL, "point " + point + " has " + axes[a] + " = " + p[a]
                        + ": voxelisation needs finite coordinates (PointCloud.finitePoints() drops such points)");
            }
        }
        for (int a = 0; a < 3; a++) {
            double size = sizes[a];
            double cell = Voxelization.cell(p[a], size);
            if (!(cell >= CoordinateKey.MIN_COORDINATE && cell <= CoordinateKey.MAX_COORDINATE)) {
                return InvalidInputException.argument(CALL, "point " + point + " has " + axes[a] + " = " + p[a]
                        + ", in voxel " + (long) cell + " at voxel size " + size + ", outside the representable range ["
                        + CoordinateKey.MIN_COORDINATE + ", " + CoordinateKey.MAX_COORDINATE + "] ("
                        + CoordinateKey.COORDINATE_BITS + "-bit signed voxel coordinates): at this voxel size "
                        + axes[a] + " must lie in [" + CoordinateKey.MIN_COORDINATE * size + ", "
                        + (CoordinateKey.MAX_COORDINATE + 1L) * size + ")");
            }
        }
        throw new IllegalStateException("the device reported point " + point + " as invalid, but it is valid");
    }

    /** Pool blocks for one call, all released on close, on every path. */
    private final class Workspace implements AutoCloseable {
        private final List<CachingPool.Block> blocks;

        Workspace(List<CachingPool.Block> blocks) {
            this.blocks = blocks;
        }

        long acquire(long bytes) {
            CachingPool.Block block = pool.acquire(Math.max(bytes, 16));
            blocks.add(block);
            return block.address();
        }

        long upload(int[] values) {
            ByteBuffer host = direct(values.length, 4);
            host.asIntBuffer().put(values);
            return copy(host, (long) values.length * 4);
        }

        long upload(long[] values) {
            ByteBuffer host = direct(values.length, 8);
            host.asLongBuffer().put(values);
            return copy(host, (long) values.length * 8);
        }

        long upload(float[] values) {
            ByteBuffer host = direct(values.length, 4);
            host.asFloatBuffer().put(values);
            return copy(host, (long) values.length * 4);
        }

        int[] downloadInts(long address, int count) {
            int[] out = new int[count];
            download(address, count, 4).asIntBuffer().get(out);
            return out;
        }

        long[] downloadLongs(long address, int count) {
            long[] out = new long[count];
            download(address, count, 8).asLongBuffer().get(out);
            return out;
        }

        float[] downloadFloats(long address, int count) {
            float[] out = new float[count];
            download(address, count, 4).asFloatBuffer().get(out);
            return out;
        }

        /** Waits for the stream: the result is needed on the host now. */
        private ByteBuffer download(long address, int count, int width) {
            ByteBuffer host = direct(count, width);
            if (count > 0) {
                CudaCalls.check("cuMemcpyDtoHAsync", cuMemcpyDtoHAsync(Pointer.to(host), DevicePointer.at(address),
                        (long) count * width, stream));
            }
            CudaCalls.check("cuStreamSynchronize", cuStreamSynchronize(stream));
            return host;
        }

        private static ByteBuffer direct(int count, int width) {
            long bytes = Math.max(width, (long) count * width);
            if (bytes > Integer.MAX_VALUE - 8) {
                throw new NotSupportedException(CALL, "an array of " + bytes + " bytes exceeds the 2 GiB host buffer");
            }
            return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
        }

        /** Pageable source: the driver has staged it by the time the call returns, so the buffer may go. */
        private long copy(ByteBuffer host, long bytes) {
            long address = acquire(bytes);
            if (bytes > 0) {
                CudaCalls.check("cuMemcpyHtoDAsync", cuMemcpyHtoDAsync(DevicePointer.at(address), Pointer.to(host),
                        bytes, stream));
            }
            return address;
        }

        @Override
        public void close() {
            // Safe to recycle at once: anything that reuses a block is issued later on the same stream.
            blocks.forEach(pool::release);
            blocks.clear();
        }
    }
}

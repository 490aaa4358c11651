package org.lacuna.runtime.internal.cuda;


import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.memory.CachingPool;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ConvolutionContracts;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.sparseconv.BackendResidency;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateIndex;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.Int3;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapStatistics;
import org.lacuna.runtime.sparseconv.MapTables;
import org.lacuna.runtime.sparseconv.ResidentKernelMap;
import org.lacuna.runtime.sparseconv.TileOrder;
import org.lacuna.runtime.lifetime.Closer;

/**
 * Sparse convolution on the GPU: gather-GEMM-scatter ({@code sparseconv_gather_scatter.cu} then the elementwise
 * bias-activation op) and the output-stationary implicit GEMM ({@code sparseconv_implicit_gemm.cu}), reading the
 * map's resident tables ({@link #residentMap}): built on the device by the map kernels ({@code sparseconv_map.cu})
 * from the sets' device keys, cached on the input coordinate set, and never copied across the bus. The host map (the
 * coordinate set's host description) only sizes the tables and answers the launch shapes (pair counts per offset,
 * the split rule), which it knows without a transfer. Temporaries are pool blocks released when the launches are
 * issued (later users of a block are issued after them on the same stream).
 */
final class CudaConvolutionOps extends PooledCudaOps implements ConvolutionOps {
    private static final int TILE_ROWS = MapStatistics.IMPLICIT_GEMM_TILE_ROWS;
    private static final String MAP_FILE = "sparseconv_map.cu";
    private static final int MAP_BLOCK = 256;
    private static final Map<String, String> MAP_CONSTANTS = Map.of("BLOCK", Integer.toString(MAP_BLOCK));
    /** Split the offsets in two launches when that saves at least this share of the sorted tiles' work. */
    private static final double SPLIT_GAIN = 0.9;

    /** This backend's keys and maps on coordinate sets: dropped (freed to the pool) from the sets when it closes. */
    private final BackendResidency residency = new BackendResidency(CudaBackendProvider.NAME);

    CudaConvolutionOps(KernelModules modules, StreamHandle stream, DeviceInfo device, CachingPool pool,
                       PinnedStaging staging, ElementwiseOps elementwise) {
        // The elementwise ops run bias, activation and the output type after the fp32 gather-GEMM-scatter.
        super(modules, stream, pool, staging, device.multiprocessors(), elementwise);
    }

    @Override
    public void sparseConvolution(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                                  Activation activation, Dataflow dataflow, DeviceArray y) {
        ConvolutionContracts.sparseConvolution(CudaBackendProvider.NAME, x, map, weights, bias, activation, dataflow,
                y);
        if (map.outputCount() == 0) {
            return;
        }
        ResidentKernelMap resident = residentMap(map);
        switch (dataflow) {
            case IMPLICIT_GEMM -> implicitGemm(x, resident, weights, bias, activation, y, ruleOrder(map));
            case GATHER_GEMM_SCATTER -> gatherScatter(x, resident, weights, bias, activation, y);
        }
    }

    /** The scheduler's names for the dataflows, as {@link org.lacuna.runtime.schedule.ConvolutionCandidates}. */
    static final java.util.List<String> PATHS = java.util.List.of(
            org.lacuna.runtime.schedule.ConvolutionCandidates.GATHER_SCATTER,
            org.lacuna.runtime.schedule.ConvolutionCandidates.IMPLICIT_UNSORTED,
            org.lacuna.runtime.schedule.ConvolutionCandidates.IMPLICIT_SORTED,
            org.lacuna.runtime.schedule.ConvolutionCandidates.IMPLICIT_SPLIT);

    /** One dataflow by the scheduler's name: gather-GEMM-scatter, or the implicit GEMM over rows in one order. */
    void sparseConvolution(String path, DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                           Activation activation, DeviceArray y) {
        Dataflow dataflow = path.equals(PATHS.get(0)) ? Dataflow.GATHER_GEMM_SCATTER : Dataflow.IMPLICIT_GEMM;
        ConvolutionContracts.sparseConvolution(CudaBackendProvider.NAME, x, map, weights, bias, activation, dataflow,
                y);
        TileOrder order = switch (path) {
            case org.lacuna.runtime.schedule.ConvolutionCandidates.GATHER_SCATTER -> null;
            case org.lacuna.runtime.schedule.ConvolutionCandidates.IMPLICIT_UNSORTED -> TileOrder.UNSORTED;
            case org.lacuna.runtime.schedule.ConvolutionCandidates.IMPLICIT_SORTED -> TileOrder.SORTED;
            case org.lacuna.runtime.schedule.ConvolutionCandidates.IMPLICIT_SPLIT -> TileOrder.SORTED_SPLIT;
            default -> throw new NotSupportedException("sparseConvolution", "no dataflow '" + path + "'; the CUDA "
                    + "backend has " + PATHS);
        };
        if (map.outputCount() == 0) {
            return;
        }
        ResidentKernelMap resident = residentMap(map);
        if (order == null) {
            gatherScatter(x, resident, weights, bias, activation, y);
        } else {
            implicitGemm(x, resident, weights, bias, activation, y, order);
        }
    }

    /** The rule's row order: split where it saves at least {@link #SPLIT_GAIN} of the sorted tiles' work. */
    private static TileOrder ruleOrder(KernelMap map) {
        MapStatistics statistics = map.statistics();
        boolean split = map.volume() > 1 && statistics.redundancy(TILE_ROWS, TileOrder.SORTED_SPLIT)
                <= SPLIT_GAIN * statistics.redundancy(TILE_ROWS, TileOrder.SORTED);
        return split ? TileOrder.SORTED_SPLIT : TileOrder.SORTED;
    }

    @Override
    public DeviceArray coordinateKeys(CoordinateSet set) {
        CoordinateSet.Origin origin = set.origin();
        if (origin != null) {
            // A downsampling's output (freed while its finer set lives on): computed again from the finer keys, which
            // this set answers for if the finer set has no holders of its own (CoordinateSet#borrowing).
            return set.residentKeys(residency, () -> set.borrowing(origin.fine(),
                    () -> downsampledKeys(coordinateKeys(origin.fine()), origin.fine().size(), set)));
        }
        // The one upload of a set's keys: made when the sparse tensor holding the set's features comes up (the
        // input upload), so a forward finds them here.
        return set.residentKeys(residency, () -> {
            CudaBuffer keys = persistent((long) set.size() * Long.BYTES);
            try {
                staging.upload(set.keyMemory(), keys.address("coordinateKeys"),
                        (long) set.size() * Long.BYTES, stream);
                return new DeviceArray(keys, 0, DType.I64, Shape.of(set.size()));
            } catch (RuntimeException e) {
                throw Closer.closeAfter(e, keys);
            }
        });
    }

    /** A voxeliser's device keys become the set's, with no upload; offered keys the set does not need are freed. */
    @Override
    public DeviceArray adoptCoordinateKeys(CoordinateSet set, DeviceArray keys) {
        try {
            ConvolutionContracts.adoptCoordinateKeys(CudaBackendProvider.NAME, set, keys);
        } catch (RuntimeException e) {
            throw keys == null ? e : Closer.closeAfter(e, keys.buffer());
        }
        DeviceArray held = set.residentKeys(residency, () -> keys);
        if (held != keys) {
            keys.buffer().close();
        }
        return held;
    }

    /** Drops this backend's keys and maps from every coordinate set: the backend closes, before its pool does. */
    void close() {
        residency.close();
    }

    @Override
    public void unpackCoordinates(DeviceArray keys, DeviceArray coordinates) {
        ConvolutionContracts.unpackCoordinates(CudaBackendProvider.NAME, keys, coordinates);
        long n = keys.shape().dim(0);
        launch("coord_unpack", gridFor(n), new KernelArguments().address(address(keys)).i64(n)
                .address(address(coordinates)));
    }

    /**
     * Builds the tables with the map kernels from the device keys of the map's sets: a submanifold map queries the
     * input set from itself, a strided one from its output keys, which it computes from the input keys first
     * ({@link #downsampledKeys}), a transposed one queries the coarse input set from the fine output set with the
     * downsampling's offsets negated. Sized by the host map's counts (no download).
     */
    @Override
    public ResidentKernelMap residentMap(KernelMap map) {
        // The output set's keys (made here for a strided map) belong to the input set while nothing else holds them.
        return map.inputs().residentMap(residency, map.geometry(),
                () -> map.inputs().borrowing(map.outputs(), () -> buildResident(map)));
    }

    private ResidentKernelMap buildResident(KernelMap map) {
        ConvGeometry geometry = map.geometry();
        CoordinateSet inputs = map.inputs();
        CoordinateSet outputs = map.outputs();
        DeviceArray inKeys = coordinateKeys(inputs);
        DeviceArray outKeys = geometry.transposed() || geometry.isSubmanifold() ? coordinateKeys(outputs)
                : outputs.residentKeys(residency, () -> downsampledKeys(inKeys, inputs.size(), outputs));
        int volume = map.volume();
        List<CudaBuffer> made = new ArrayList<>();
        try (CallWorkspace workspace = new CallWorkspace(pool, staging, stream)) {
            String call = "residentMap";
            DeviceTables tables = new DeviceTables(
                    adopt(made, (long) map.outputCount() * volume * Integer.BYTES).address(call),
                    adopt(made, (long) map.outputCount() * map.maskWords() * Long.BYTES).address(call),
                    adopt(made, (volume + 1L) * Long.BYTES).address(call),
                    adopt(made, map.totalPairs() * Integer.BYTES).address(call),
                    adopt(made, map.totalPairs() * Integer.BYTES).address(call));
            Int3 stride = geometry.transposed() ? outputs.tensorStride() : inputs.tensorStride();
            long duplicate = workspace.acquire(Integer.BYTES);
            memset(duplicate, (byte) 0, Integer.BYTES);
            // The duplicate flag is not read back: the host set refused repeated keys when it was made.
            buildTables(workspace, address(inKeys), inputs.size(), address(outKeys), outputs.size(), geometry,
                    stride, geometry.transposed() ? -1 : 1, duplicate, tables);
            return new ResidentKernelMap(map,
                    array(made.get(0), DType.I32, Shape.of(map.outputCount(), volume)),
                    array(made.get(1), DType.I64, Shape.of(map.outputCount(), map.maskWords())),
                    array(made.get(2), DType.I64, Shape.of(volume + 1L)),
                    array(made.get(3), DType.I32, Shape.of(map.totalPairs())),
                    array(made.get(4), DType.I32, Shape.of(map.totalPairs())));
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, made.toArray(AutoCloseable[]::new));
        }
    }

    /** Device addresses of a map's five tables. */
    private record DeviceTables(long neighbours, long masks, long pairStart, long pairInputs, long pairOutputs) {
    }

    /**
     * The map kernels in order: the offsets' deltas ({@code coord_map_deltas}), the hash table of the input keys
     * ({@code coord_hash_insert}), one query per (output row, mask word) ({@code coord_map_query}), then the pair
     * lists: per-chunk counts ({@code coord_map_chunk_counts}), their exclusive scan on the device
     * ({@code coord_scan_chunks}, which writes the pair starts) and a deterministic placement
     * ({@code coord_map_pairs}).
     */
    private void buildTables(CallWorkspace workspace, long inKeys, long inCount, long outKeys, long outCount,
                             ConvGeometry geometry, Int3 stride, int sign, long duplicate, DeviceTables into) {
        int volume = geometry.volume();
        int words = (volume + 63) >>> 6;
        long deltas = workspace.acquire(3L * volume * Integer.BYTES);
        Int3 step = geometry.dilation().times(stride);
        launch("coord_map_deltas", gridFor(volume), new KernelArguments().i32(geometry.kernelSize().x())
                .i32(geometry.kernelSize().y()).i32(geometry.kernelSize().z()).i32(step.x()).i32(step.y())
                .i32(step.z()).i32(sign).address(deltas));
        long capacity = CoordinateIndex.capacityFor(inCount);
        long slots = workspace.acquire(capacity * Long.BYTES);
        long rows = workspace.acquire(capacity * Integer.BYTES);
        // Slots start EMPTY (all ones) and rows at -1: the insert's duplicate check relies on it.
        memset(slots, (byte) 0xFF, capacity * Long.BYTES);
        memset(rows, (byte) 0xFF, capacity * Integer.BYTES);
        launch("coord_hash_insert", gridFor(inCount), new KernelArguments().address(inKeys).i64(inCount)
                .address(slots).address(rows).i64(capacity).address(duplicate));
        launch("coord_map_query", gridFor(outCount * words), new KernelArguments().address(outKeys).i64(outCount)
                .address(slots).address(rows).i64(capacity).address(deltas).i32(volume).i32(words)
                .address(into.neighbours()).address(into.masks()));
        pairLists(workspace, into.neighbours(), outCount, volume, into.pairStart(), into.pairInputs(),
                into.pairOutputs());
    }

    /** Offset-major pair lists of a [rows, volume] table: counts per (offset, chunk), device scan, placement. */
    private void pairLists(CallWorkspace workspace, long table, long rows, int volume, long pairStart,
                           long pairInputs, long pairOutputs) {
        long chunks = LaunchGrid.blocks(rows, MAP_BLOCK);
        long cells = chunks * volume;
        long chunkCounts = workspace.acquire(cells * Integer.BYTES);
        long chunkStart = workspace.acquire(cells * Long.BYTES);
        launch("coord_map_chunk_counts", chunks, volume, new KernelArguments().address(table).i64(rows).i32(volume)
                .address(chunkCounts));
        launch("coord_scan_chunks", 1, new KernelArguments().address(chunkCounts).i64(cells).i64(chunks)
                .address(chunkStart).address(pairStart));
        launch("coord_map_pairs", chunks, volume, new KernelArguments().address(table).i64(rows).i32(volume)
                .address(chunkStart).address(pairInputs).address(pairOutputs));
    }

    /**
     * The output keys of a downsampling, computed from the input keys on the device in the host's order (floored
     * to the coarse stride, sorted, deduplicated: {@code coord_downsample_keys}, the radix sort,
     * {@code coord_unique_flags}, then the one-offset pair-list kernels and {@code coord_gather_keys}); as many as
     * the host set has, which it knows without a transfer.
     */
    private DeviceArray downsampledKeys(DeviceArray inKeys, int inCount, CoordinateSet coarse) {
        int count = coarse.size();
        Int3 stride = coarse.tensorStride();
        CudaBuffer out = persistent((long) count * Long.BYTES);
        try (CallWorkspace workspace = new CallWorkspace(pool, staging, stream)) {
            long floored = workspace.acquire((long) inCount * Long.BYTES);
            launch("coord_downsample_keys", gridFor(inCount), new KernelArguments().address(address(inKeys))
                    .i64(inCount).i32(stride.x()).i32(stride.y()).i32(stride.z()).address(floored));
            long sorted = workspace.acquire((long) inCount * Long.BYTES);
            sort(workspace, floored, inCount, Long.BYTES, sorted, workspace.acquire((long) inCount * Integer.BYTES));
            long flags = workspace.acquire((long) inCount * Integer.BYTES);
            launch("coord_unique_flags", gridFor(inCount), new KernelArguments().address(sorted).i64(inCount)
                    .address(flags));
            long total = workspace.acquire(2L * Long.BYTES);
            long first = workspace.acquire((long) count * Integer.BYTES);
            long firstToo = workspace.acquire((long) count * Integer.BYTES);
            pairLists(workspace, flags, inCount, 1, total, first, firstToo);
            launch("coord_gather_keys", gridFor(count), new KernelArguments().address(sorted).address(first)
                    .i64(count).address(out.address("downsampledKeys")));
            return new DeviceArray(out, 0, DType.I64, Shape.of(count));
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, out);
        }
    }

    /** The sort {@link PooledCudaOps#radixSort} with sparseconv_map.cu's copy of the kernels. */
    private void sort(CallWorkspace workspace, long keys, long n, int bytes, long keysOut, long indicesOut) {
        radixSort(MAP_FILE, MAP_BLOCK, workspace, keys, n, bytes, keysOut, indicesOut);
    }

    /**
     * The implicit GEMM's output rows for offsets [from, to): bitmask-sorted on the device, or the identity; built
     * on first request and kept with the resident map.
     */
    private DeviceArray rowOrder(ResidentKernelMap resident, int from, int to, boolean sorted) {
        KernelMap map = resident.map();
        long n = map.outputCount();
        // ~(the group's bits): only the low min(to - from, 64) bits vary.
        int bytes = RadixSortLaunches.bytesForBits(Math.min(to - from, 64));
        return resident.derived((sorted ? "rows sorted " : "rows ") + from + "-" + to, () ->
                order(n, sorted ? bytes : 0, keys -> launch("coord_rows_by_mask", gridFor(n), new KernelArguments()
                        .address(address(resident.masks())).i64(n).i32(map.maskWords()).i32(from).i32(to)
                        .address(keys))));
    }

    /**
     * The offsets by descending pair count, ties in offset order (as {@link MapStatistics#scatterGroups} orders
     * them).
     */
    private DeviceArray offsetOrder(ResidentKernelMap resident) {
        int volume = resident.map().volume();
        // ~(pair count): a count is at most the output rows, so only the bytes holding that many vary.
        int bytes = RadixSortLaunches.bytesFor(resident.map().outputCount());
        return resident.derived("offsets by pairs", () -> order(volume, bytes, keys ->
                launch("coord_offset_order_keys", gridFor(volume), new KernelArguments()
                        .address(address(resident.pairStart())).i32(volume).address(keys))));
    }

    /** Writes n sort keys: a launch of one of the order kernels. */
    @FunctionalInterface
    private interface SortKeys {
        void write(long keys);
    }

    /**
     * An I32 [n] order made on the device: the indices 0 .. n-1 sorted by the keys {@code keys} writes, compared on
     * their low {@code bytes} bytes (0: unsorted, the identity).
     */
    private DeviceArray order(long n, int bytes, SortKeys keys) {
        CudaBuffer rows = persistent(n * Integer.BYTES);
        try (CallWorkspace workspace = new CallWorkspace(pool, staging, stream)) {
            long address = rows.address("order");
            if (bytes == 0) {
                launch("coord_identity", gridFor(n), new KernelArguments().i64(n).address(address));
            } else {
                long sortKeys = workspace.acquire(n * Long.BYTES);
                keys.write(sortKeys);
                sort(workspace, sortKeys, n, bytes, workspace.acquire(n * Long.BYTES), address);
            }
            return new DeviceArray(rows, 0, DType.I32, Shape.of(n));
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, rows);
        }
    }

    /**
     * The map built with the same kernels into call memory and downloaded, to compare builders: the pair lists
     * are sized by their bound (outputs × volume) and the pair starts downloaded first to learn the real count.
     */
    @Override
    public MapTables buildMapTables(CoordinateSet inputs, CoordinateSet outputs, ConvGeometry geometry) {
        String call = "buildMapTables";
        ConvolutionContracts.buildMapTables(inputs, outputs, geometry);
        int volume = geometry.volume();
        int words = (volume + 63) >>> 6;
        long cells = (long) outputs.size() * volume;
        if (cells > Integer.MAX_VALUE - 8) {
            throw new NotSupportedException(call, outputs.size() + " outputs × " + volume
                    + " offsets exceed a host table of 2^31 entries");
        }
        try (CallWorkspace workspace = new CallWorkspace(pool, staging, stream)) {
            long duplicate = workspace.upload(new int[] {0});
            DeviceTables tables = new DeviceTables(workspace.acquire(cells * Integer.BYTES),
                    workspace.acquire((long) outputs.size() * words * Long.BYTES),
                    workspace.acquire((volume + 1L) * Long.BYTES), workspace.acquire(cells * Integer.BYTES),
                    workspace.acquire(cells * Integer.BYTES));
            buildTables(workspace, workspace.upload(inputs.keys()), inputs.size(), workspace.upload(outputs.keys()),
                    outputs.size(), geometry, inputs.tensorStride(), 1, duplicate, tables);
            int[] repeated = workspace.downloadInts(duplicate, 1);
            if (repeated[0] != 0) {
                throw InvalidInputException.argument(call, "duplicate coordinate: input row " + (repeated[0] - 1)
                        + " repeats an earlier row (the largest such row is reported)");
            }
            long[] pairStart = workspace.downloadLongs(tables.pairStart(), volume + 1);
            int total = Math.toIntExact(pairStart[volume]);
            return new MapTables(volume, workspace.downloadInts(tables.neighbours(), (int) cells),
                    workspace.downloadLongs(tables.masks(), Math.multiplyExact(outputs.size(), words)), pairStart,
                    workspace.downloadInts(tables.pairInputs(), total),
                    workspace.downloadInts(tables.pairOutputs(), total));
        }
    }

    private void launch(String kernel, long grid, KernelArguments arguments) {
        launch(kernel, grid, 1, arguments);
    }

    private void launch(String kernel, long gridX, long gridY, KernelArguments arguments) {
        var function = modules.function(MAP_FILE, MAP_CONSTANTS, kernel);
        modules.launch(kernel, function, gridX, gridY, MAP_BLOCK, 0, stream, arguments);
    }


    private CudaBuffer adopt(List<CudaBuffer> made, long bytes) {
        CudaBuffer buffer = persistent(bytes);
        made.add(buffer);
        return buffer;
    }

    private static DeviceArray array(CudaBuffer buffer, DType dtype, Shape shape) {
        return new DeviceArray(buffer, 0, dtype, shape);
    }

    private static long address(DeviceArray array) {
        return ((CudaBuffer) array.buffer()).address("sparseConvolution") + array.byteOffset();
    }

    private long gridFor(long work) {
        return LaunchGrid.gridStrideAtLeastOne(work, MAP_BLOCK, (long) multiprocessors * 8);
    }

    /** The implicit GEMM over output rows in {@code order} (see {@link ConvolutionLaunches#implicitGemm}). */
    private void implicitGemm(DeviceArray x, ResidentKernelMap resident, DeviceArray weights, DeviceArray bias,
                              Activation activation, DeviceArray y, TileOrder order) {
        try (CallWorkspace workspace = new CallWorkspace(pool, staging, stream)) {
            run(new ConvolutionLaunches(operands(workspace), tables(resident)).implicitGemm(x, resident.map(),
                    weights, bias, activation, y, order));
        }
    }

    private void gatherScatter(DeviceArray x, ResidentKernelMap resident, DeviceArray weights, DeviceArray bias,
                               Activation activation, DeviceArray y) {
        KernelMap map = resident.map();
        int out = Math.toIntExact(y.shape().dim(1));
        long accumulatorBytes = (long) map.outputCount() * out * Float.BYTES;
        // An F32 [outputs, out] array, so that the elementwise family's bias-activation op finishes it; released
        // (stream-ordered) after that op is issued.
        try (CudaBuffer sums = new CudaBuffer(pool, pool.acquire(accumulatorBytes), accumulatorBytes)) {
            DeviceArray accumulator = new DeviceArray(sums, 0, DType.F32, Shape.of(map.outputCount(), out));
            scatterSums(x, resident, weights, accumulator);
            elementwise.biasActivation(accumulator, bias, activation, y);
        }
    }

    /**
     * Zeroes the accumulator and adds every offset's gathered products into it: one launch per group of
     * {@link MapStatistics#scatterGroups}, whose offsets are a contiguous run of the resident offset order (the same
     * order, from the same counts), so a launch reads its offsets from there instead of an upload.
     */
    private void scatterSums(DeviceArray x, ResidentKernelMap resident, DeviceArray weights, DeviceArray accumulator) {
        memset(((CudaBuffer) accumulator.buffer()).address("sparseConvolution"), (byte) 0, accumulator.byteSize());
        try (CallWorkspace workspace = new CallWorkspace(pool, staging, stream)) {
            run(new ConvolutionLaunches(operands(workspace), tables(resident)).scatterSums(x, resident.map(), weights,
                    accumulator));
        }
    }

    /** The resident map's tables and the orders derived from them, by device address: nothing is uploaded. */
    private ConvolutionLaunches.MapOperands tables(ResidentKernelMap resident) {
        int volume = resident.map().volume();
        return new ConvolutionLaunches.MapOperands() {
            @Override
            public long neighbours() {
                return address(resident.neighbours());
            }

            @Override
            public long masks() {
                return address(resident.masks());
            }

            @Override
            public long rows(int group, TileOrder order, int from, int to) {
                return address(order == TileOrder.UNSORTED ? rowOrder(resident, 0, volume, false)
                        : rowOrder(resident, from, to, true));
            }

            @Override
            public long pairStart() {
                return address(resident.pairStart());
            }

            @Override
            public long pairInputs() {
                return address(resident.pairInputs());
            }

            @Override
            public long pairOutputs() {
                return address(resident.pairOutputs());
            }

            @Override
            public long offsets(int group, int first, int[] offsets) {
                return address(offsetOrder(resident)) + (long) first * Integer.BYTES;
            }
        };
    }

    private void run(List<KernelLaunch> launches) {
        for (KernelLaunch launch : launches) {
            modules.launch(launch, stream);
        }
    }

    /**
     * The call's operands: arrays by their device address, scratch from the call's workspace. Nothing is uploaded:
     * the launches read the set's resident tables (an upload would throw, flagging a table gone missing).
     */
    private static LaunchOperands operands(CallWorkspace workspace) {
        return new LaunchOperands() {
            @Override
            public void add(KernelArguments arguments, DeviceArray array, String call) {
                DEVICE_ADDRESSES.add(arguments, array, call);
            }

            @Override
            public long acquire(String name, long bytes) {
                return workspace.acquire(bytes);
            }
        };
    }
}

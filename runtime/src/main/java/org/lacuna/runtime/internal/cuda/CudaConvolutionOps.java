package org.lacuna.runtime.internal.cuda;

import static jcuda.driver.JCudaDriver.cuMemsetD8Async;

import java.util.List;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
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
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateIndex;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapStatistics;
import org.lacuna.runtime.sparseconv.MapTables;
import org.lacuna.runtime.sparseconv.TileOrder;

/**
 * Sparse convolution on the GPU: gather-GEMM-scatter ({@code sparseconv_gather_scatter.cu} then the elementwise
 * bias-activation op) and the output-stationary implicit GEMM ({@code sparseconv_implicit_gemm.cu}).
 * The host-built kernel map is uploaded for each call into pool blocks that are released when the launches are
 * issued (later users of a block are issued after them on the same stream).
 */
final class CudaConvolutionOps implements ConvolutionOps {
    private static final int TILE_ROWS = MapStatistics.IMPLICIT_GEMM_TILE_ROWS;
    private static final int MAP_BLOCK = 256;
    /** Split the offsets in two launches when that saves at least this share of the sorted tiles' work. */
    private static final double SPLIT_GAIN = 0.9;

    private final KernelModules modules;
    private final StreamHandle stream;
    private final CachingPool pool;
    private final PinnedStaging staging;
    private final int multiprocessors;
    /** Bias, activation and the output type after the gather-GEMM-scatter's fp32 accumulation. */
    private final ElementwiseOps elementwise;

    CudaConvolutionOps(KernelModules modules, StreamHandle stream, DeviceInfo device, CachingPool pool,
                       PinnedStaging staging, ElementwiseOps elementwise) {
        this.elementwise = elementwise;
        this.modules = modules;
        this.stream = stream;
        this.pool = pool;
        this.staging = staging;
        this.multiprocessors = device.multiprocessors();
    }

    @Override
    public void sparseConvolution(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                                  Activation activation, Dataflow dataflow, DeviceArray y) {
        ConvolutionContracts.sparseConvolution(CudaBackendProvider.NAME, x, map, weights, bias, activation, dataflow,
                y);
        if (map.outputCount() == 0) {
            return;
        }
        try (CallWorkspace workspace = new CallWorkspace(pool, staging, stream)) {
            switch (dataflow) {
                case IMPLICIT_GEMM -> implicitGemm(x, map, weights, bias, activation, y, workspace, ruleOrder(map));
                case GATHER_GEMM_SCATTER -> gatherScatter(x, map, weights, bias, activation, y, workspace);
            }
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
        try (CallWorkspace workspace = new CallWorkspace(pool, staging, stream)) {
            if (order == null) {
                gatherScatter(x, map, weights, bias, activation, y, workspace);
            } else {
                implicitGemm(x, map, weights, bias, activation, y, workspace, order);
            }
        }
    }

    /** The rule's row order: split where it saves at least {@link #SPLIT_GAIN} of the sorted tiles' work. */
    private static TileOrder ruleOrder(KernelMap map) {
        MapStatistics statistics = map.statistics();
        boolean split = map.volume() > 1 && statistics.redundancy(TILE_ROWS, TileOrder.SORTED_SPLIT)
                <= SPLIT_GAIN * statistics.redundancy(TILE_ROWS, TileOrder.SORTED);
        return split ? TileOrder.SORTED_SPLIT : TileOrder.SORTED;
    }

    /**
     * The hash table of the input keys ({@code coord_hash_insert}), one query per (output row, mask word)
     * ({@code coord_map_query}), then the pair lists: per-chunk counts ({@code coord_map_chunk_counts}), their
     * exclusive scan on the host (volume × chunks numbers), and a deterministic placement ({@code coord_map_pairs}).
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
            long capacity = CoordinateIndex.capacityFor(inputs.size());
            long keys = workspace.upload(inputs.keys());
            long slots = workspace.acquire(capacity * Long.BYTES);
            long rows = workspace.acquire(capacity * Integer.BYTES);
            long duplicate = workspace.upload(new int[] {0});
            CudaCalls.check("cuMemsetD8Async", cuMemsetD8Async(DevicePointer.at(slots), (byte) 0xFF,
                    capacity * Long.BYTES, stream));
            // Rows start at -1: the insert's duplicate check relies on it (sparseconv_map.cu).
            CudaCalls.check("cuMemsetD8Async", cuMemsetD8Async(DevicePointer.at(rows), (byte) 0xFF,
                    capacity * Integer.BYTES, stream));
            Map<String, String> constants = Map.of("BLOCK", Integer.toString(MAP_BLOCK));
            var insert = modules.function("sparseconv_map.cu", constants, "coord_hash_insert");
            modules.launch("coord_hash_insert", insert, gridFor(inputs.size()), MAP_BLOCK, 0, stream,
                    new KernelArguments().address(keys).i64(inputs.size()).address(slots).address(rows).i64(capacity)
                            .address(duplicate));
            long outKeys = workspace.upload(outputs.keys());
            long deltas = workspace.upload(geometry.deltas(inputs.tensorStride()));
            long table = workspace.acquire(cells * Integer.BYTES);
            long masks = workspace.acquire((long) outputs.size() * words * Long.BYTES);
            var query = modules.function("sparseconv_map.cu", constants, "coord_map_query");
            modules.launch("coord_map_query", query, gridFor((long) outputs.size() * words), MAP_BLOCK, 0, stream,
                    new KernelArguments().address(outKeys).i64(outputs.size()).address(slots).address(rows)
                            .i64(capacity).address(deltas).i32(volume).i32(words).address(table).address(masks));
            int[] repeated = workspace.downloadInts(duplicate, 1);
            if (repeated[0] != 0) {
                throw InvalidInputException.argument(call, "duplicate coordinate: input row " + (repeated[0] - 1)
                        + " repeats an earlier row (the largest such row is reported)");
            }
            long chunks = LaunchGrid.blocks(outputs.size(), MAP_BLOCK);
            int chunkCells = Math.toIntExact(chunks * volume);
            long chunkCounts = workspace.acquire((long) chunkCells * Integer.BYTES);
            var count = modules.function("sparseconv_map.cu", constants, "coord_map_chunk_counts");
            modules.launch("coord_map_chunk_counts", count, chunks, volume, MAP_BLOCK, 0, stream,
                    new KernelArguments().address(table).i64(outputs.size()).i32(volume).address(chunkCounts));
            int[] perChunk = workspace.downloadInts(chunkCounts, chunkCells);
            long[] chunkStart = new long[chunkCells];
            long[] pairStart = new long[volume + 1];
            long running = 0;
            for (int i = 0; i < chunkCells; i++) {
                if (i % chunks == 0) {
                    pairStart[(int) (i / chunks)] = running;
                }
                chunkStart[i] = running;
                running += Integer.toUnsignedLong(perChunk[i]);
            }
            pairStart[volume] = running;
            int total = Math.toIntExact(running);
            long pairInputs = workspace.acquire((long) total * Integer.BYTES);
            long pairOutputs = workspace.acquire((long) total * Integer.BYTES);
            var place = modules.function("sparseconv_map.cu", constants, "coord_map_pairs");
            modules.launch("coord_map_pairs", place, chunks, volume, MAP_BLOCK, 0, stream,
                    new KernelArguments().address(table).i64(outputs.size()).i32(volume)
                            .address(workspace.upload(chunkStart)).address(pairInputs).address(pairOutputs));
            return new MapTables(volume, workspace.downloadInts(table, (int) cells),
                    workspace.downloadLongs(masks, Math.multiplyExact(outputs.size(), words)), pairStart,
                    workspace.downloadInts(pairInputs, total), workspace.downloadInts(pairOutputs, total));
        }
    }

    private long gridFor(long work) {
        return LaunchGrid.gridStrideAtLeastOne(work, MAP_BLOCK, (long) multiprocessors * 8);
    }

    /** The implicit GEMM over output rows in {@code order} (see {@link ConvolutionLaunches#implicitGemm}). */
    private void implicitGemm(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                              Activation activation, DeviceArray y, CallWorkspace workspace, TileOrder order) {
        run(new ConvolutionLaunches(operands(workspace)).implicitGemm(x, map, weights, bias, activation, y, order));
    }

    private void gatherScatter(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                               Activation activation, DeviceArray y, CallWorkspace workspace) {
        int out = Math.toIntExact(y.shape().dim(1));
        long accumulatorBytes = (long) map.outputCount() * out * Float.BYTES;
        // An F32 [outputs, out] array, so that the elementwise family's bias-activation op finishes it; released
        // (stream-ordered) after that op is issued.
        try (CudaBuffer sums = new CudaBuffer(pool, pool.acquire(accumulatorBytes), accumulatorBytes)) {
            DeviceArray accumulator = new DeviceArray(sums, 0, DType.F32, Shape.of(map.outputCount(), out));
            scatterSums(x, map, weights, accumulator, workspace);
            elementwise.biasActivation(accumulator, bias, activation, y);
        }
    }

    /** Zeroes the accumulator and adds every offset's gathered products into it. */
    private void scatterSums(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray accumulator,
                             CallWorkspace workspace) {
        CudaCalls.check("cuMemsetD8Async", cuMemsetD8Async(DevicePointer.at(
                ((CudaBuffer) accumulator.buffer()).address("sparseConvolution")), (byte) 0, accumulator.byteSize(),
                stream));
        run(new ConvolutionLaunches(operands(workspace)).scatterSums(x, map, weights, accumulator));
    }

    private void run(List<KernelLaunch> launches) {
        for (KernelLaunch launch : launches) {
            modules.launch(launch, stream);
        }
    }

    /** The call's operands: arrays by their device address, host-built tables uploaded into the call's workspace. */
    private static LaunchOperands operands(CallWorkspace workspace) {
        return new LaunchOperands() {
            @Override
            public void add(KernelArguments arguments, DeviceArray array, String call) {
                arguments.pointer(array == null ? null : pointer(array));
            }

            @Override
            public long upload(String name, int[] values) {
                return workspace.upload(values);
            }

            @Override
            public long upload(String name, long[] values) {
                return workspace.upload(values);
            }

            @Override
            public long acquire(String name, long bytes) {
                return workspace.acquire(bytes);
            }
        };
    }

    private static CUdeviceptr pointer(DeviceArray array) {
        return ((CudaBuffer) array.buffer()).pointer("sparseConvolution", array.byteOffset());
    }


}

package org.lacuna.runtime.internal.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapStatistics;
import org.lacuna.runtime.sparseconv.TileOrder;

/**
 * The launches of the sparse-convolution dataflows {@link CudaConvolutionOps} makes for a checked call: which of the
 * map's tables each reads, {@link MapStatistics}' launch plan, grids and arguments. On the device the tables are the
 * resident map's ({@link MapOperands} over {@link org.lacuna.runtime.sparseconv.ResidentKernelMap}, built there by
 * the map kernels); only the kernel emulator's fixtures upload them from the host map. Separate from the op so that
 * the fixtures record exactly these launches ({@link LaunchOperands} names the buffers).
 */
final class ConvolutionLaunches {
    static final int TILE_ROWS = MapStatistics.IMPLICIT_GEMM_TILE_ROWS;
    static final int TILE_CHANNELS = 64;
    static final int IMPLICIT_THREADS = 128;
    static final int SCATTER_PAIRS = 64;
    static final int SCATTER_THREADS = 256;
    private static final String CALL = "sparseConvolution";

    private final LaunchOperands operands;
    private final MapOperands resident;

    /**
     * Where the launches find the map's tables: uploaded from the host map through the {@link LaunchOperands}
     * (the fixtures' recorder names them), or already on the device ({@link CudaConvolutionOps}' resident maps).
     */
    interface MapOperands {
        long neighbours();

        long masks();

        /** The implicit GEMM's output rows for offsets [from, to) under {@code order} (launch {@code group}). */
        long rows(int group, TileOrder order, int from, int to);

        long pairStart();

        long pairInputs();

        long pairOutputs();

        /** Scatter group {@code group}'s offsets, which start at {@code first} in the groups' concatenation. */
        long offsets(int group, int first, int[] offsets);
    }

    /** Tables uploaded from the host map. */
    ConvolutionLaunches(LaunchOperands operands) {
        this(operands, null);
    }

    /** Tables from {@code resident} (null: uploaded from the host map). */
    ConvolutionLaunches(LaunchOperands operands, MapOperands resident) {
        this.operands = operands;
        this.resident = resident;
    }

    private MapOperands tables(KernelMap map) {
        if (resident != null) {
            return resident;
        }
        return new MapOperands() {
            @Override
            public long neighbours() {
                return operands.upload("neighbours", map.neighbourTable());
            }

            @Override
            public long masks() {
                return operands.upload("masks", map.masks());
            }

            @Override
            public long rows(int group, TileOrder order, int from, int to) {
                return operands.upload("rows" + group, map.statistics().tileRows(order, from, to));
            }

            @Override
            public long pairStart() {
                return operands.upload("pair_start", map.pairStarts());
            }

            @Override
            public long pairInputs() {
                return operands.upload("pair_inputs", map.pairInputs());
            }

            @Override
            public long pairOutputs() {
                return operands.upload("pair_outputs", map.pairOutputs());
            }

            @Override
            public long offsets(int group, int first, int[] offsets) {
                return operands.upload("offsets" + group, offsets);
            }
        };
    }

    /**
     * The implicit GEMM over output rows in {@code order}: unsorted runs them in coordinate order (the identity
     * permutation), sorted by bitmask, split sorts each half of the offsets separately in two launches (the first
     * accumulates into a workspace, the second finishes from it).
     */
    List<KernelLaunch> implicitGemm(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                                    Activation activation, DeviceArray y, TileOrder order) {
        int volume = map.volume();
        int in = Math.toIntExact(x.shape().dim(1));
        int out = Math.toIntExact(y.shape().dim(1));
        MapOperands tables = tables(map);
        int[] bounds = MapStatistics.offsetGroupBounds(volume, order);
        boolean split = bounds.length > 2;
        long neighbours = tables.neighbours();
        long masks = tables.masks();
        long partial = split ? operands.acquire("partial", (long) map.outputCount() * out * Float.BYTES) : 0;
        Map<String, String> variant = Map.of("T_IN", x.dtype().kernelName(), "T_OUT", y.dtype().kernelName(),
                "ACT", activation.kernelName());
        long tiles = LaunchGrid.blocks(map.outputCount(), TILE_ROWS);
        long channelTiles = LaunchGrid.blocks(out, TILE_CHANNELS);
        List<KernelLaunch> launches = new ArrayList<>();
        for (int group = 0; group + 1 < bounds.length; group++) {
            long rows = tables.rows(group, order, bounds[group], bounds[group + 1]);
            boolean last = group + 2 == bounds.length;
            KernelArguments arguments = new KernelArguments();
            operands.add(arguments, x, CALL);
            operands.add(arguments, weights, CALL);
            arguments.address(neighbours).address(masks).address(rows).i64(map.outputCount()).i32(in).i32(out)
                    .i32(volume).i32(map.maskWords()).i32(bounds[group]).i32(bounds[group + 1]).i32(group > 0 ? 1 : 0)
                    .i32(last ? 1 : 0).address(partial);
            operands.add(arguments, bias, CALL);
            operands.add(arguments, y, CALL);
            launches.add(new KernelLaunch("sparseconv_implicit_gemm.cu", "sparseconv_implicit_gemm", variant, tiles,
                    channelTiles, IMPLICIT_THREADS, 0, arguments));
        }
        return launches;
    }

    /**
     * The gather-GEMM-scatter's sums: one launch per offset group of {@link MapStatistics#scatterGroups}, each adding
     * its offsets' products into {@code accumulator} (F32 [outputs, out], zeroed before, finished by the elementwise
     * bias-activation op after). No launch when the map has no pair.
     */
    List<KernelLaunch> scatterSums(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray accumulator) {
        List<KernelLaunch> launches = new ArrayList<>();
        if (map.totalPairs() == 0) {
            return launches;
        }
        int in = Math.toIntExact(x.shape().dim(1));
        int out = Math.toIntExact(accumulator.shape().dim(1));
        MapOperands tables = tables(map);
        long starts = tables.pairStart();
        long inputs = tables.pairInputs();
        long outputs = tables.pairOutputs();
        long channelTiles = LaunchGrid.blocks(out, TILE_CHANNELS);
        List<int[]> groups = map.statistics().scatterGroups();
        int first = 0;
        for (int g = 0; g < groups.size(); g++) {
            int[] group = groups.get(g);
            long largest = map.pairCount(group[0]);
            long offsets = tables.offsets(g, first, group);
            first += group.length;
            KernelArguments arguments = new KernelArguments();
            operands.add(arguments, x, CALL);
            operands.add(arguments, weights, CALL);
            arguments.address(starts).address(inputs).address(outputs).address(offsets);
            operands.add(arguments, accumulator, CALL);
            arguments.i32(in).i32(out);
            launches.add(new KernelLaunch("sparseconv_gather_scatter.cu", "sparseconv_gather_scatter",
                    Map.of("T_IN", x.dtype().kernelName()), LaunchGrid.blocks(largest, SCATTER_PAIRS) * channelTiles,
                    group.length, SCATTER_THREADS, 0, arguments));
        }
        return launches;
    }
}

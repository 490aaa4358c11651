package org.lacuna.runtime.schedule;

import java.util.LinkedHashMap;
import java.util.Map;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapStatistics;
import org.lacuna.runtime.sparseconv.TileOrder;

/**
 * A sparse convolution on one kernel map. The counts are read from the map (free: it keeps them); the dataflows'
 * tile redundancies ({@link #redundancy}) sort the map's rows, so they are computed only when asked for (by a GPU's
 * candidates or an explanation) and then kept on the map, which layers sharing it share.
 */
public final class ConvolutionStatistics implements LayerStatistics {
    private final KernelMap map;
    private final int in;
    private final int out;
    private final DType dtype;

    public ConvolutionStatistics(KernelMap map, int in, int out, DType dtype) {
        this.map = map;
        this.in = in;
        this.out = out;
        this.dtype = dtype;
    }

    public long pointsIn() {
        return map.inputCount();
    }

    public long pointsOut() {
        return map.outputCount();
    }

    public int volume() {
        return map.volume();
    }

    public long totalPairs() {
        return map.totalPairs();
    }

    public long[] pairsPerOffset() {
        return map.statistics().pairsPerOffset();
    }

    /** Pairs per output point, the centre included. */
    public double averageNeighbours() {
        return map.outputCount() == 0 ? 0 : (double) map.totalPairs() / map.outputCount();
    }

    /** The implicit GEMM's computed over useful work for its tiles of output rows in {@code order}. */
    public double redundancy(TileOrder order) {
        return map.statistics().redundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, order);
    }

    public int inChannels() {
        return in;
    }

    public int outChannels() {
        return out;
    }

    public DType dtype() {
        return dtype;
    }

    public KernelMap map() {
        return map;
    }

    @Override
    public String kind() {
        return "sparse-conv";
    }

    /** Keyed by the map, not the channels: the layers sharing a kernel map share its choice (see the scheduler). */
    @Override
    public String signature() {
        // Built without a formatter: every convolution layer builds it for each new map (see FixedPoint).
        StringBuilder s = new StringBuilder(80).append("sparse-conv|").append(dtype).append("|volume=").append(volume())
                .append("|in<=").append(LayerStatistics.sizeBucket(pointsIn())).append("|out<=")
                .append(LayerStatistics.sizeBucket(pointsOut())).append("|neighbours~");
        return FixedPoint.append(s, LayerStatistics.ratioBucket(averageNeighbours(), 0.5), 1).toString();
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> m = describeCounts();
        m.putAll(describeRedundancies(map));
        return m;
    }

    /** The statistics the map keeps (free to read), without the redundancies, which sort its rows. */
    Map<String, Object> describeCounts() {
        return LayerStatistics.described("pointsIn", pointsIn(), "pointsOut", pointsOut(), "volume", volume(),
                "pairs", totalPairs(), "averageNeighbours", averageNeighbours(), "pairsPerOffset", pairsPerOffset(),
                "inChannels", in, "outChannels", out, "dtype", dtype.toString());
    }

    /** The implicit GEMM's tile redundancies on {@code map} (computed now unless the map knows them already). */
    static Map<String, Object> describeRedundancies(KernelMap map) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (TileOrder order : TileOrder.values()) {
            m.put(redundancyKey(order),
                    map.statistics().redundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, order));
        }
        return m;
    }

    /** {@code redundancyUnsorted}, {@code redundancySorted}, {@code redundancySortedSplit}. */
    static String redundancyKey(TileOrder order) {
        return switch (order) {
            case UNSORTED -> "redundancyUnsorted";
            case SORTED -> "redundancySorted";
            case SORTED_SPLIT -> "redundancySortedSplit";
        };
    }

    @Override
    public String toString() {
        return signature();
    }
}

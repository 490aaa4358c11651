package org.lacuna.runtime.sparseconv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a kernel map costs each dataflow. Gather-GEMM-scatter does exactly {@link #pairsPerOffset()} row products
 * per offset. The implicit GEMM computes, for every tile of output rows, every offset that any row of the tile needs:
 * its redundancy is that work over the useful work (1 means no waste). Sorting rows by bitmask groups rows with the
 * same neighbours; splitting the offsets in two groups sorts each half separately.
 */
public final class MapStatistics {
    /** The output rows per tile of {@code sparseconv_implicit_gemm.cu}. */
    public static final int IMPLICIT_GEMM_TILE_ROWS = 64;

    private final KernelMap map;
    private final long[] pairsPerOffset;
    private final ConcurrentHashMap<String, Double> redundancies = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, int[]> orders = new ConcurrentHashMap<>();

    MapStatistics(KernelMap map) {
        this.map = map;
        this.pairsPerOffset = new long[map.volume()];
        for (int v = 0; v < pairsPerOffset.length; v++) {
            pairsPerOffset[v] = map.pairCount(v);
        }
    }

    public long[] pairsPerOffset() {
        return pairsPerOffset.clone();
    }

    public long totalPairs() {
        return map.totalPairs();
    }

    /** Pairs per output row: the neighbours an output has on average (the centre included). */
    public double averageNeighbours() {
        return (double) map.totalPairs() / map.outputCount();
    }

    /** Computed work over useful work for tiles of {@code tileRows} output rows arranged by {@code order}. */
    public double redundancy(int tileRows, TileOrder order) {
        if (tileRows < 1) {
            throw new IllegalArgumentException("tile rows " + tileRows);
        }
        return redundancies.computeIfAbsent(tileRows + "/" + order, k -> computeRedundancy(tileRows, order));
    }

    /**
     * Output rows in the order the implicit GEMM runs them for one group of offsets {@code [from, to)}: sorted by
     * the group's bitmask, ties in coordinate order, so that the result is the same on every run. Computed once per
     * group; a copy is returned.
     */
    public int[] sortedRows(int from, int to) {
        if (from < 0 || to > map.volume() || from >= to) {
            throw new IllegalArgumentException("offset group [" + from + ", " + to + ") of " + map.volume());
        }
        return orders.computeIfAbsent(((long) from << 32) | to, k -> sortRows(from, to)).clone();
    }

    /**
     * The offset groups the implicit GEMM launches once each under {@code order}: {@code [bounds[g], bounds[g + 1])}.
     * One group, or for {@link TileOrder#SORTED_SPLIT} the two halves (a single offset has nothing to split).
     */
    public static int[] offsetGroupBounds(int volume, TileOrder order) {
        if (volume < 1) {
            throw new IllegalArgumentException("volume " + volume);
        }
        return order == TileOrder.SORTED_SPLIT && volume > 1 ? new int[] {0, volume / 2, volume}
                : new int[] {0, volume};
    }

    /**
     * The output rows of the implicit GEMM's launch over offsets {@code [from, to)} under {@code order}: coordinate
     * order for {@link TileOrder#UNSORTED}, else {@link #sortedRows}. What the CUDA backend uploads as {@code rows[]}.
     */
    public int[] tileRows(TileOrder order, int from, int to) {
        return order == TileOrder.UNSORTED ? identity(map.outputCount()) : sortedRows(from, to);
    }

    /**
     * Gather-GEMM-scatter's launches: the non-empty offsets by descending pair count, cut into groups whose smallest
     * has at least half the pairs of the largest, so that each launch (sized by its largest offset) has few idle
     * blocks.
     */
    public List<int[]> scatterGroups() {
        Integer[] order = new Integer[map.volume()];
        for (int v = 0; v < order.length; v++) {
            order[v] = v;
        }
        Arrays.sort(order, (a, b) -> Long.compare(pairsPerOffset[b], pairsPerOffset[a]));
        List<int[]> groups = new ArrayList<>();
        int start = 0;
        while (start < order.length && pairsPerOffset[order[start]] > 0) {
            int end = start + 1;
            while (end < order.length && pairsPerOffset[order[end]] > 0
                    && 2 * pairsPerOffset[order[end]] >= pairsPerOffset[order[start]]) {
                end++;
            }
            int[] group = new int[end - start];
            for (int i = start; i < end; i++) {
                group[i - start] = order[i];
            }
            groups.add(group);
            start = end;
        }
        return groups;
    }

    private int[] sortRows(int from, int to) {
        int rows = map.outputCount();
        int words = KernelMap.wordsFor(to - from);
        long[] keys = groupMasks(from, to, words);
        Integer[] order = new Integer[rows];
        for (int r = 0; r < rows; r++) {
            order[r] = r;
        }
        Arrays.parallelSort(order, (a, b) -> {
            for (int w = words - 1; w >= 0; w--) {
                int c = Long.compareUnsigned(keys[a * words + w], keys[b * words + w]);
                if (c != 0) {
                    return -c;
                }
            }
            return Integer.compare(a, b);
        });
        int[] out = new int[rows];
        for (int r = 0; r < rows; r++) {
            out[r] = order[r];
        }
        return out;
    }

    private double computeRedundancy(int tileRows, TileOrder order) {
        int volume = map.volume();
        long useful = map.totalPairs();
        if (useful == 0) {
            return 1.0;
        }
        int[] bounds = offsetGroupBounds(volume, order);
        long work = 0;
        for (int g = 0; g + 1 < bounds.length; g++) {
            work += tileWork(tileRows(order, bounds[g], bounds[g + 1]), bounds[g], bounds[g + 1], tileRows);
        }
        return (double) work / useful;
    }

    /** Σ over tiles of rows in the tile × offsets in {@code [from, to)} any row of the tile needs. */
    private long tileWork(int[] rows, int from, int to, int tileRows) {
        int words = KernelMap.wordsFor(to - from);
        long[] masks = groupMasks(from, to, words);
        long work = 0;
        long[] union = new long[words];
        for (int start = 0; start < rows.length; start += tileRows) {
            int end = Math.min(rows.length, start + tileRows);
            Arrays.fill(union, 0);
            for (int i = start; i < end; i++) {
                for (int w = 0; w < words; w++) {
                    union[w] |= masks[rows[i] * words + w];
                }
            }
            int offsets = 0;
            for (long u : union) {
                offsets += Long.bitCount(u);
            }
            work += (long) (end - start) * offsets;
        }
        return work;
    }

    /** Each row's bits for offsets {@code [from, to)}, shifted so offset {@code from} is bit 0. */
    private long[] groupMasks(int from, int to, int words) {
        int rows = map.outputCount();
        long[] out = new long[Math.multiplyExact(rows, words)];
        for (int r = 0; r < rows; r++) {
            for (int v = from; v < to; v++) {
                if ((map.mask(r, v >>> 6) >>> (v & 63) & 1L) != 0) {
                    int bit = v - from;
                    out[r * words + (bit >>> 6)] |= 1L << (bit & 63);
                }
            }
        }
        return out;
    }

    private static int[] identity(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return out;
    }

    @Override
    public String toString() {
        return String.format("MapStatistics[%d pairs, %.2f neighbours/row, redundancy@%d unsorted %.2f sorted %.2f "
                        + "sorted+split %.2f, pairs/offset %s]", totalPairs(), averageNeighbours(),
                IMPLICIT_GEMM_TILE_ROWS, redundancy(IMPLICIT_GEMM_TILE_ROWS, TileOrder.UNSORTED),
                redundancy(IMPLICIT_GEMM_TILE_ROWS, TileOrder.SORTED),
                redundancy(IMPLICIT_GEMM_TILE_ROWS, TileOrder.SORTED_SPLIT), Arrays.toString(pairsPerOffset));
    }
}

package org.lacuna.runtime.sparseconv;

/** The two GPU dataflows of a sparse convolution; both compute the function the CPU reference does. */
public enum Dataflow {
    /**
     * Per kernel offset: gather the input rows of its pairs, multiply by the offset's weight, scatter-add into the
     * outputs. Its scatter uses atomics, so the order of fp additions, and the last bits of the result, vary.
     */
    GATHER_GEMM_SCATTER,
    /**
     * Output-stationary implicit GEMM: each output tile gathers its neighbours per offset on the fly, skipping offsets
     * no row of the tile has, over rows sorted by bitmask. No atomics: deterministic.
     */
    IMPLICIT_GEMM;

    /** The sorted-tile redundancy at or under which the implicit GEMM's wasted work costs less than a scatter. */
    public static final double IMPLICIT_GEMM_MAX_REDUNDANCY = 2.0;

    /**
     * The rule until a per-layer scheduler measures: the implicit GEMM wins unless sorting still leaves its tiles
     * computing more than {@link #IMPLICIT_GEMM_MAX_REDUNDANCY} times the useful work (sparse, scattered maps such as
     * large kernels on thin clouds), where gather-GEMM-scatter's exact work wins despite its extra traffic.
     */
    public static Dataflow choose(MapStatistics statistics) {
        double best = Math.min(statistics.redundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, TileOrder.SORTED),
                statistics.redundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, TileOrder.SORTED_SPLIT));
        return best <= IMPLICIT_GEMM_MAX_REDUNDANCY ? IMPLICIT_GEMM : GATHER_GEMM_SCATTER;
    }
}

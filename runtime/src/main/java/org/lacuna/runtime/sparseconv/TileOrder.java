package org.lacuna.runtime.sparseconv;

/** How the implicit GEMM arranges output rows into tiles, for {@link MapStatistics#redundancy}. */
public enum TileOrder {
    /** Rows in coordinate order. */
    UNSORTED,
    /** Rows sorted by their neighbour bitmask, so rows needing the same offsets share tiles. */
    SORTED,
    /** The offsets split in two halves, rows sorted by each half's bitmask separately, one pass per half. */
    SORTED_SPLIT
}

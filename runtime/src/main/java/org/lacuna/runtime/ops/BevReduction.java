package org.lacuna.runtime.ops;

/** How {@link VoxelizationOps#bevProject} collapses the z axis of the dense grid. */
public enum BevReduction {
    /** Every z cell becomes channels of its own: channel c·Z + z (SECOND's and CenterPoint's height compression). */
    STACK_Z,
    /** The sum over z, in ascending z; an empty column is 0. */
    SUM,
    /** The largest value over z (a NaN propagates); an empty column is 0. */
    MAX
}

package org.lacuna.runtime.ops;

/** How {@link VoxelizationOps#batchPool} reduces the rows of one batch sample. */
public enum BatchPooling {
    /** The largest value (a NaN propagates). */
    MAX,
    /** The mean, summed in row order. */
    MEAN
}

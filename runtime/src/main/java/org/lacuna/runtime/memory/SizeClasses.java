package org.lacuna.runtime.memory;

/**
 * Rounds requests to the sizes the pool caches: powers of two from 512 B up to 1 MiB (small tensors come and go
 * often, so a few classes catch most reuse), then multiples of 2 MiB (the driver's own large-page granularity, so
 * rounding wastes nothing the driver would not).
 */
public final class SizeClasses {
    public static final long MIN_BLOCK = 512;
    public static final long SMALL_LIMIT = 1L << 20;
    public static final long LARGE_GRANULE = 2L << 20;

    private SizeClasses() {
    }

    public static long roundUp(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative allocation size " + bytes);
        }
        if (bytes <= MIN_BLOCK) {
            return MIN_BLOCK;
        }
        if (bytes <= SMALL_LIMIT) {
            return Long.highestOneBit(bytes - 1) << 1;
        }
        return Math.addExact(bytes, LARGE_GRANULE - 1) / LARGE_GRANULE * LARGE_GRANULE;
    }
}

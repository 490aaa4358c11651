package org.lacuna.bench.gpu;

/**
 * The useful work one launch does, counted from the problem rather than measured: the FLOPs the math needs and the
 * bytes it must move at least once (each input read, each output written). Divided by a timing these give achieved
 * TFLOP/s and GB/s; divided by the device's peaks, the floor no implementation can beat.
 */
public record Work(long flops, long bytes) {
    public Work {
        if (flops < 0 || bytes < 0) {
            throw new IllegalArgumentException("flops and bytes cannot be negative: " + flops + ", " + bytes);
        }
    }

    public static Work of(long flops, long bytes) {
        return new Work(flops, bytes);
    }

    /** Pure data movement (copies, fills, transfers). */
    public static Work bytesOnly(long bytes) {
        return new Work(0, bytes);
    }
}

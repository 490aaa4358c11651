package org.lacuna.runtime.schedule;

/**
 * What one call of a candidate kernel does, the inputs of its predicted cost: arithmetic, memory traffic and the
 * number of separate launches or calls it makes (each pays the device's fixed overhead).
 *
 * @param flops floating-point operations, counting the work the kernel really does (padding and redundant tiles
 *              included), not just the useful work
 * @param bytes bytes read and written from memory
 * @param calls       launches or calls, at least 1
 * @param parallelism independent units of work (thread blocks, output tiles) the kernel splits into: a kernel with
 *                    fewer than the device has parallel units ({@link EfficiencyTable#units()}) reaches only that
 *                    share of its rates — why a 2:4 kernel's one-token call, a single row of tiles, loses to cuBLAS
 * @param weights     weight elements the kernel converts into its own form on a layer's first call of it (widened,
 *                    packed, decompressed positions; kept for the layer's later calls): 0 where it converts none. A
 *                    live trial pays this for every candidate it tries ({@link KernelRate#formSecondsPerWeight})
 */
public record Work(double flops, double bytes, int calls, long parallelism, long weights) {
    /** Parallelism of a kernel that always fills the device (a library call that splits its work as it sees fit). */
    public static final long FILLS_DEVICE = Long.MAX_VALUE;

    public Work {
        if (!(flops >= 0) || !(bytes >= 0) || calls < 1 || parallelism < 1 || weights < 0) {
            throw new IllegalArgumentException("work needs flops >= 0, bytes >= 0, calls >= 1, parallelism >= 1 and "
                    + "weights >= 0, got " + flops + ", " + bytes + ", " + calls + ", " + parallelism + ", " + weights);
        }
    }

    /** Work that converts no weight. */
    public Work(double flops, double bytes, int calls, long parallelism) {
        this(flops, bytes, calls, parallelism, 0);
    }

    /** Work that fills the device. */
    public Work(double flops, double bytes, int calls) {
        this(flops, bytes, calls, FILLS_DEVICE);
    }

    /** Both works one after the other: the parallelism of the narrower. */
    public Work plus(Work other) {
        return new Work(flops + other.flops, bytes + other.bytes, calls + other.calls,
                Math.min(parallelism, other.parallelism), weights + other.weights);
    }
}

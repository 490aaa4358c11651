package org.lacuna.runtime.schedule;

/**
 * What one call of a candidate kernel does, the inputs of its predicted cost: arithmetic, memory traffic and the
 * number of separate launches or calls it makes (each pays the device's fixed overhead).
 *
 * @param flops floating-point operations, counting the work the kernel really does (padding and redundant tiles
 *              included), not just the useful work
 * @param bytes bytes read and written from memory
 * @param calls launches or calls, at least 1
 */
public record Work(double flops, double bytes, int calls) {
    public Work {
        if (!(flops >= 0) || !(bytes >= 0) || calls < 1) {
            throw new IllegalArgumentException("work needs flops >= 0, bytes >= 0 and calls >= 1, got " + flops + ", "
                    + bytes + ", " + calls);
        }
    }

    public Work plus(Work other) {
        return new Work(flops + other.flops, bytes + other.bytes, calls + other.calls);
    }
}

package org.lacuna.runtime.cpu;

import java.util.function.LongConsumer;
import java.util.stream.LongStream;

/**
 * How the reference ops spread their independent rows or elements: over the common fork-join pool once the work is
 * large enough, on the calling thread below that. Each index is computed alone, so the split never changes a result.
 */
final class ReferenceParallel {
    /** Below this much work (elements, or multiply-adds) a parallel stream costs more than it saves. */
    static final long THRESHOLD = 1 << 15;

    private ReferenceParallel() {
    }

    /** Runs {@code body} for every index in {@code [0, count)}, in parallel when {@code work} reaches the threshold. */
    static void forEach(long count, long work, LongConsumer body) {
        LongStream indices = LongStream.range(0, count);
        (work >= THRESHOLD ? indices.parallel() : indices).forEach(body);
    }
}

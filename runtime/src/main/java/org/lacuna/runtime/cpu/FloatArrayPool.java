package org.lacuna.runtime.cpu;

import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Float arrays reused across calls for staging operands, so a steady stream of same-sized ops allocates nothing
 * big. Safe for concurrent calls: each borrow hands out an array no one else holds. Keeps a few arrays at most.
 */
final class FloatArrayPool {
    private static final int KEPT = 4;
    private final ConcurrentLinkedDeque<float[]> free = new ConcurrentLinkedDeque<>();

    /** An array of at least {@code length} floats with undefined contents; give it back with {@link #release}. */
    float[] borrow(int length) {
        for (var it = free.iterator(); it.hasNext(); ) {
            float[] array = it.next();
            if (array.length >= length && free.removeFirstOccurrence(array)) {
                return array;
            }
        }
        return new float[length];
    }

    void release(float[] array) {
        free.addFirst(array);
        while (free.size() > KEPT) {
            free.pollLast();
        }
    }
}

package org.lacuna.runtime.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * Float arrays reused across calls for staging operands, so a steady stream of same-sized ops allocates nothing
 * big. Safe for concurrent calls: each borrow hands out an array no one else holds. A borrow takes the smallest array
 * that fits, so a small request never holds on to the big one; at most {@link #KEPT_BYTES} are kept, so one huge op
 * does not pin its staging for the life of the backend.
 */
final class FloatArrayPool {
    /** The most bytes the pool keeps between calls. */
    static final long KEPT_BYTES = 64L << 20;
    private final List<float[]> free = new ArrayList<>();
    private long keptFloats;

    /** An array of at least {@code length} floats with undefined contents; give it back with {@link #release}. */
    float[] borrow(int length) {
        synchronized (this) {
            int best = -1;
            for (int i = 0; i < free.size(); i++) {
                int size = free.get(i).length;
                if (size >= length && (best < 0 || size < free.get(best).length)) {
                    best = i;
                }
            }
            if (best >= 0) {
                float[] array = free.remove(best);
                keptFloats -= array.length;
                return array;
            }
        }
        return new float[length];
    }

    /** Keeps {@code array} for a later borrow, dropping the smallest kept arrays while the pool holds too much. */
    synchronized void release(float[] array) {
        if ((long) array.length * Float.BYTES > KEPT_BYTES) {
            return;
        }
        free.add(array);
        keptFloats += array.length;
        while (keptFloats * Float.BYTES > KEPT_BYTES) {
            int smallest = 0;
            for (int i = 1; i < free.size(); i++) {
                if (free.get(i).length < free.get(smallest).length) {
                    smallest = i;
                }
            }
            keptFloats -= free.remove(smallest).length;
        }
    }

    /** The bytes kept for later borrows. */
    synchronized long keptBytes() {
        return keptFloats * Float.BYTES;
    }
}

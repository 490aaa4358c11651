package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Staging arrays: the smallest that fits is lent, and the pool never keeps more than its byte budget. */
class FloatArrayPoolTest {
    @Test
    void aBorrowTakesTheSmallestArrayThatFits() {
        var pool = new FloatArrayPool();
        float[] big = new float[1000];
        float[] small = new float[100];
        pool.release(big);
        pool.release(small);
        pool.release(new float[10]);
        assertSame(small, pool.borrow(50));
        assertSame(big, pool.borrow(50));
        assertEquals(200, pool.borrow(200).length, "nothing kept fits: a fresh array");
    }

    @Test
    void thePoolKeepsAtMostItsByteBudget() {
        var pool = new FloatArrayPool();
        int quarter = Math.toIntExact(FloatArrayPool.KEPT_BYTES / Float.BYTES / 4);
        for (int i = 0; i < 6; i++) {
            pool.release(new float[quarter + i]);
        }
        assertTrue(pool.keptBytes() <= FloatArrayPool.KEPT_BYTES, pool.keptBytes() + " bytes kept");
        pool.release(new float[Math.toIntExact(FloatArrayPool.KEPT_BYTES / Float.BYTES) + 1]);
        assertTrue(pool.keptBytes() <= FloatArrayPool.KEPT_BYTES, "an array over the budget is not kept");
    }
}

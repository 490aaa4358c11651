package org.lacuna.runtime.cpu;

import java.util.Arrays;
import org.lacuna.runtime.pointcloud.CoordinateKey;

/**
 * A stable sort of coordinate keys that carries each key's original index along: least-significant-digit radix
 * sort on bytes, in {@link CoordinateKey} (unsigned) order, skipping the byte positions where all keys agree (the
 * batch bytes of a single sample, the high bytes of a small cloud). Stability is what keeps the points of one voxel
 * in input order; carrying the indices is what spares a search for each point's voxel afterwards.
 */
final class KeySort {
    /** The keys in ascending order, and for each the index it had in the input. */
    record Sorted(long[] keys, int[] indices) {
    }

    private KeySort() {
    }

    static Sorted sort(long[] input) {
        int n = input.length;
        long[] keys = input.clone();
        int[] indices = new int[n];
        for (int i = 0; i < n; i++) {
            indices[i] = i;
        }
        long anyOne = 0;
        long allOne = -1;
        for (long key : input) {
            anyOne |= key;
            allOne &= key;
        }
        long varying = anyOne ^ allOne;
        long[] keysOut = new long[n];
        int[] indicesOut = new int[n];
        int[] start = new int[257];
        for (int shift = 0; shift < Long.SIZE; shift += Byte.SIZE) {
            if ((varying >>> shift & 0xFF) == 0) {
                continue;
            }
            Arrays.fill(start, 0);
            for (long key : keys) {
                start[(int) (key >>> shift & 0xFF) + 1]++;
            }
            for (int digit = 0; digit < 256; digit++) {
                start[digit + 1] += start[digit];
            }
            for (int i = 0; i < n; i++) {
                int at = start[(int) (keys[i] >>> shift & 0xFF)]++;
                keysOut[at] = keys[i];
                indicesOut[at] = indices[i];
            }
            long[] k = keys;
            keys = keysOut;
            keysOut = k;
            int[] x = indices;
            indices = indicesOut;
            indicesOut = x;
        }
        return new Sorted(keys, indices);
    }
}

package org.lacuna.runtime.sparseconv;

import org.lacuna.runtime.pointcloud.CoordinateKey;

/**
 * Row of each coordinate key: open addressing with linear probing over a power-of-two table of at least twice the
 * key count, slots compared on the full 64-bit key so that no two coordinates can match, free slots marked
 * {@link CoordinateKey#EMPTY}. It is the host twin of the GPU table in {@code sparseconv_map.cu}: same hash, same
 * probe sequence, same capacity, so a table built on either side answers the same.
 */
public final class CoordinateIndex {
    private final long[] slots;
    private final int[] rows;
    private final long mask;

    /** Indexes {@code keys}, which must be distinct and never EMPTY (as {@code SparseCoordinates.check} ensures). */
    public CoordinateIndex(long[] keys) {
        long capacity = capacityFor(keys.length);
        if (capacity > 1L << 30) {
            throw new IllegalArgumentException(keys.length + " keys exceed the host index's 2^29-key limit");
        }
        slots = new long[(int) capacity];
        rows = new int[(int) capacity];
        java.util.Arrays.fill(slots, CoordinateKey.EMPTY);
        mask = capacity - 1;
        for (int row = 0; row < keys.length; row++) {
            insert(keys[row], row);
        }
    }

    /** The table size for {@code count} keys: the power of two at least 2·count (and at least 16). */
    public static long capacityFor(long count) {
        long wanted = Math.max(16L, 2L * count);
        return Long.highestOneBit(wanted - 1) << 1;
    }

    /** MurmurHash3's 64-bit finaliser: packed keys differ mostly in low bits of each field, which it spreads. */
    public static long hash(long key) {
        long h = key;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** The row of {@code key}, or -1 if the coordinate is absent. */
    public int find(long key) {
        long slot = hash(key) & mask;
        while (true) {
            long stored = slots[(int) slot];
            if (stored == key) {
                return rows[(int) slot];
            }
            if (stored == CoordinateKey.EMPTY) {
                return -1;
            }
            slot = (slot + 1) & mask;
        }
    }

    public long capacity() {
        return slots.length;
    }

    private void insert(long key, int row) {
        if (key == CoordinateKey.EMPTY) {
            throw new IllegalArgumentException("the EMPTY key names no coordinate");
        }
        long slot = hash(key) & mask;
        while (slots[(int) slot] != CoordinateKey.EMPTY) {
            if (slots[(int) slot] == key) {
                throw new IllegalArgumentException("duplicate key " + CoordinateKey.describe(key));
            }
            slot = (slot + 1) & mask;
        }
        slots[(int) slot] = key;
        rows[(int) slot] = row;
    }
}

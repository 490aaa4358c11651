// The device side of runtime/.../pointcloud/CoordinateKey and of the coordinate hash tables built on it
// (sparseconv_map.cu, voxelize.cu): the key layout (packing and unpacking), the slot hash, and the one insert and
// lookup both families use. The host twin is runtime/.../sparseconv/CoordinateIndex: same hash (MurmurHash3's
// fmix64), same linear probing, same power-of-two capacity >= 2N. The all-ones key (batch 65535, which
// CoordinateKey never produces) marks a free slot. Slots hold the full key and are compared on all 64 bits: two
// coordinates never share a slot's answer, unlike tables that store a truncated hash.
#pragma once

#define COORD_EMPTY 0xFFFFFFFFFFFFFFFFull
#define COORD_BIAS 32768
#define COORD_MIN (-32768)
#define COORD_MAX 32767

__device__ __forceinline__ unsigned long long coord_hash(unsigned long long h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

// CoordinateKey.pack: batch in the top 16 bits, then x, y, z each biased by COORD_BIAS into 16 bits. The caller
// has checked the coordinates are in [COORD_MIN, COORD_MAX] and the batch in [0, 65534].
__device__ __forceinline__ unsigned long long coord_pack(long long b, long long x, long long y, long long z) {
    return ((unsigned long long)b << 48) | ((unsigned long long)(x + COORD_BIAS) << 32)
         | ((unsigned long long)(y + COORD_BIAS) << 16) | (unsigned long long)(z + COORD_BIAS);
}

// The coordinate on axis 0 (x), 1 (y) or 2 (z) of a packed key; the batch is key >> 48.
__device__ __forceinline__ int coord_axis(unsigned long long key, int axis) {
    return (int)((key >> (32 - 16 * axis)) & 0xFFFF) - COORD_BIAS;
}

// Puts key into the table (or finds it there) and returns its slot. slots must start all EMPTY; the table is never
// more than half full, so the probe ends.
__device__ __forceinline__ unsigned long long coord_insert(unsigned long long* slots, unsigned long long mask,
                                                           unsigned long long key) {
    unsigned long long slot = coord_hash(key) & mask;
    while (true) {
        const unsigned long long previous = atomicCAS(slots + slot, COORD_EMPTY, key);
        if (previous == COORD_EMPTY || previous == key) {
            return slot;
        }
        slot = (slot + 1) & mask;
    }
}

// The value (rows[slot]) stored beside key, or -1 when the table does not hold it.
__device__ __forceinline__ int coord_find(const unsigned long long* __restrict__ slots, const int* __restrict__ rows,
                                          unsigned long long mask, unsigned long long key) {
    unsigned long long slot = coord_hash(key) & mask;
    while (true) {
        const unsigned long long stored = slots[slot];
        if (stored == key) {
            return rows[slot];
        }
        if (stored == COORD_EMPTY) {
            return -1;
        }
        slot = (slot + 1) & mask;
    }
}

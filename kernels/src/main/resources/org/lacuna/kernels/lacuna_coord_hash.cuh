// The device side of runtime/.../pointcloud/CoordinateKey and of the coordinate hash tables built on it
// (sparseconv_map.cu, voxelize.cu): the key layout's constants and the slot hash. The host twin is
// runtime/.../sparseconv/CoordinateIndex: same hash (MurmurHash3's fmix64), same linear probing, same power-of-two
// capacity >= 2N. The all-ones key (batch 65535, which CoordinateKey never produces) marks a free slot.
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

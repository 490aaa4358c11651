// Coordinates and kernel maps on the GPU: a hash table of packed 64-bit coordinate keys (runtime/.../pointcloud/
// CoordinateKey) and the kernel-map query built on it. The host twin is runtime/.../sparseconv/CoordinateIndex:
// same hash (MurmurHash3's fmix64), same linear probing, same power-of-two capacity >= 2N, so both answer alike.
//
// Slots hold the full key and are compared on all 64 bits: two coordinates never share a slot's answer, unlike
// tables that store a truncated hash. The all-ones key (batch 65535, which CoordinateKey never produces) marks a
// free slot. Every index that can exceed 2^31 (slots, rows x offsets, rows x mask words) is 64-bit.
// lacuna-variants: BLOCK=256
#include "lacuna_common.cuh"
#include "lacuna_coord_hash.cuh"

#ifndef BLOCK
#define BLOCK 256
#endif

// The row of key, or -1. Terminates because the table is never more than half full.
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

// Inserts keys[i] -> i. slots must be filled with EMPTY and rows with -1 first. A key held by several rows sets
// *duplicate to the largest of those rows + 1 (over all repeated keys: the largest such row), which the host turns
// into an error. Deterministic whatever the thread order: every thread of a key, the one that claimed the slot
// included, records its row with atomicMax on the slot's row, and the last of them sees the largest of the others.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_hash_insert(const unsigned long long* __restrict__ keys, long long n, unsigned long long* slots, int* rows,
                  unsigned long long capacity, int* duplicate) {
    const unsigned long long mask = capacity - 1;
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        const unsigned long long key = keys[i];
        unsigned long long slot = coord_hash(key) & mask;
        while (true) {
            const unsigned long long previous = atomicCAS(slots + slot, COORD_EMPTY, key);
            if (previous == COORD_EMPTY || previous == key) {
                const int other = atomicMax(rows + slot, (int)i);
                if (other >= 0) {
                    atomicMax(duplicate, max(other, (int)i) + 1);
                }
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
}

// For each output row and kernel offset, the input row at output + delta[offset] (or -1), and one bit per found
// neighbour in masks[row, offset / 64]. One thread per (row, mask word): the word is built in a register and written
// once, and a thread walks at most 64 offsets. The pairs per offset come from coord_map_chunk_counts, without the
// contention of one atomic counter per offset here. deltas: [volume][3] grid steps (offset x
// dilation x input tensor stride), in CoordinateKey units.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_map_query(const unsigned long long* __restrict__ out_keys, long long n_out,
                const unsigned long long* __restrict__ slots, const int* __restrict__ rows,
                unsigned long long capacity, const int* __restrict__ deltas, int volume, int mask_words,
                int* __restrict__ neighbours, unsigned long long* __restrict__ masks) {
    const unsigned long long mask = capacity - 1;
    const long long work = n_out * mask_words;
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < work; i += (long long)gridDim.x * BLOCK) {
        const long long row = i / mask_words;
        const int word = (int)(i - row * mask_words);
        const unsigned long long key = out_keys[row];
        const unsigned long long batch = key & 0xFFFF000000000000ull;
        const int x = (int)((key >> 32) & 0xFFFF) - COORD_BIAS;
        const int y = (int)((key >> 16) & 0xFFFF) - COORD_BIAS;
        const int z = (int)(key & 0xFFFF) - COORD_BIAS;
        unsigned long long bits = 0;
        const int first = word * 64;
        const int last = min(volume, first + 64);
        for (int v = first; v < last; v++) {
            // 64-bit sums: a large dilation times a large stride must not wrap back into range.
            const long long nx = (long long)x + deltas[3 * v];
            const long long ny = (long long)y + deltas[3 * v + 1];
            const long long nz = (long long)z + deltas[3 * v + 2];
            int found = -1;
            if (nx >= COORD_MIN && nx <= COORD_MAX && ny >= COORD_MIN && ny <= COORD_MAX && nz >= COORD_MIN
                && nz <= COORD_MAX) {
                const unsigned long long neighbour = batch | ((unsigned long long)(nx + COORD_BIAS) << 32)
                                                   | ((unsigned long long)(ny + COORD_BIAS) << 16)
                                                   | (unsigned long long)(nz + COORD_BIAS);
                found = coord_find(slots, rows, mask, neighbour);
            }
            neighbours[row * volume + v] = found;
            if (found >= 0) {
                bits |= 1ull << (v - first);
            }
        }
        masks[row * mask_words + word] = bits;
    }
}

// Offset-major pair lists from the neighbour table: pairs of offset v go to [pair_start[v], pair_start[v+1]) in
// output-row order, the order the host map uses. One block per (offset, chunk of rows); a block-wide scan of the
// found flags places each pair, and chunk_start[v * chunks + chunk] (the exclusive prefix of per-chunk counts,
// computed by coord_map_chunk_counts and a host scan) places each chunk: no atomics, so the lists are deterministic.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_map_chunk_counts(const int* __restrict__ neighbours, long long n_out, int volume,
                       unsigned int* __restrict__ chunk_counts) {
    __shared__ unsigned int total;
    const int v = blockIdx.y;
    const long long row = (long long)blockIdx.x * BLOCK + threadIdx.x;
    if (threadIdx.x == 0) {
        total = 0;
    }
    __syncthreads();
    const bool found = row < n_out && neighbours[row * volume + v] >= 0;
    const unsigned int warp_count = __popc(__ballot_sync(0xFFFFFFFFu, found));
    if ((threadIdx.x & 31) == 0 && warp_count > 0) {
        atomicAdd(&total, warp_count);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        chunk_counts[(long long)v * gridDim.x + blockIdx.x] = total;
    }
}

extern "C" __global__ void __launch_bounds__(BLOCK)
coord_map_pairs(const int* __restrict__ neighbours, long long n_out, int volume,
                const long long* __restrict__ chunk_start, int* __restrict__ pair_inputs,
                int* __restrict__ pair_outputs) {
    __shared__ unsigned int warp_base[BLOCK / 32];
    const int v = blockIdx.y;
    const long long row = (long long)blockIdx.x * BLOCK + threadIdx.x;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int in = row < n_out ? neighbours[row * volume + v] : -1;
    const unsigned int ballot = __ballot_sync(0xFFFFFFFFu, in >= 0);
    if (lane == 0) {
        warp_base[warp] = __popc(ballot);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        unsigned int running = 0;
        for (int w = 0; w < BLOCK / 32; w++) {
            const unsigned int count = warp_base[w];
            warp_base[w] = running;
            running += count;
        }
    }
    __syncthreads();
    if (in >= 0) {
        const long long at = chunk_start[(long long)v * gridDim.x + blockIdx.x] + warp_base[warp]
                           + __popc(ballot & ((1u << lane) - 1u));
        pair_inputs[at] = in;
        pair_outputs[at] = (int)row;
    }
}

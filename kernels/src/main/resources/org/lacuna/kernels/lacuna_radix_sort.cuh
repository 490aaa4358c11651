// The one device sort: a stable LSD radix sort of 64-bit keys each carrying an int, 8 bits a pass, in three launches
// a pass: radix_sort_count (per tile of BLOCK keys, its count of each digit: counts[digit * tiles + tile]),
// radix_sort_scan (one CTA: the counts exclusively scanned in place, digit-major, so each (digit, tile) learns where
// its keys start), radix_sort_scatter (each key to its tile's start for its digit plus the number of keys before it
// in the tile with the same digit). Every output position is a count, not an atomic's return value, so the result
// is the same whatever the thread order. Included by voxelize.cu (the voxels into key order, the points by voxel)
// and sparseconv_map.cu (a downsampling's keys, the implicit GEMM's row orders, the offsets by pair count); the host
// side, runtime/.../internal/cuda/RadixSortLaunches, makes the launches, and sorts only the key bytes that vary.
// The including file defines BLOCK (its launch width) and includes lacuna_common.cuh first.
#pragma once

#define RADIX_DIGITS 256

extern "C" __global__ void __launch_bounds__(BLOCK)
radix_sort_count(const unsigned long long* __restrict__ keys, long long n, int shift, int* __restrict__ counts) {
    __shared__ int histogram[RADIX_DIGITS];
    const long long tiles = (n + BLOCK - 1) / BLOCK;
    for (long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        for (int d = threadIdx.x; d < RADIX_DIGITS; d += BLOCK) histogram[d] = 0;
        __syncthreads();
        const long long i = tile * BLOCK + threadIdx.x;
        if (i < n) atomicAdd(histogram + (int)((keys[i] >> shift) & 0xFF), 1);
        __syncthreads();
        for (int d = threadIdx.x; d < RADIX_DIGITS; d += BLOCK) counts[d * tiles + tile] = histogram[d];
        __syncthreads();
    }
}

// Launched with one CTA: each thread sums a contiguous run, thread 0 scans the run sums, each thread writes its run.
extern "C" __global__ void __launch_bounds__(BLOCK)
radix_sort_scan(int* __restrict__ counts, long long total) {
    __shared__ int run_start[BLOCK];
    const long long per = (total + BLOCK - 1) / BLOCK;
    const long long from = (long long)threadIdx.x * per;
    const long long to = from + per < total ? from + per : total;
    int sum = 0;
    for (long long i = from; i < to; i++) sum += counts[i];
    run_start[threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.x == 0) {
        int running = 0;
        for (int t = 0; t < BLOCK; t++) {
            const int v = run_start[t];
            run_start[t] = running;
            running += v;
        }
    }
    __syncthreads();
    int running = run_start[threadIdx.x];
    for (long long i = from; i < to; i++) {
        const int v = counts[i];
        counts[i] = running;
        running += v;
    }
}

// values_in null: each key carries its own index (a first pass with nothing to carry).
extern "C" __global__ void __launch_bounds__(BLOCK)
radix_sort_scatter(const unsigned long long* __restrict__ keys_in, const int* __restrict__ values_in, long long n,
                   int shift, const int* __restrict__ offsets, unsigned long long* __restrict__ keys_out,
                   int* __restrict__ values_out) {
    __shared__ int digit_of[BLOCK];
    const long long tiles = (n + BLOCK - 1) / BLOCK;
    for (long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        const long long i = tile * BLOCK + threadIdx.x;
        const unsigned long long key = i < n ? keys_in[i] : 0ull;
        const int digit = i < n ? (int)((key >> shift) & 0xFF) : -1;
        digit_of[threadIdx.x] = digit;
        __syncthreads();
        if (i < n) {
            int before = 0;
            for (int u = 0; u < (int)threadIdx.x; u++) before += digit_of[u] == digit ? 1 : 0;
            const int at = offsets[digit * tiles + tile] + before;
            keys_out[at] = key;
            values_out[at] = values_in == 0 ? (int)i : values_in[i];
        }
        __syncthreads();
    }
}

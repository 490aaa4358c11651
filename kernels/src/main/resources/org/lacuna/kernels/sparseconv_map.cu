// Coordinates and kernel maps on the GPU: a hash table of packed 64-bit coordinate keys (runtime/.../pointcloud/
// CoordinateKey; layout, hash, insert and lookup in lacuna_coord_hash.cuh, shared with voxelize.cu) and the
// kernel-map query built on it. The host twin is runtime/.../sparseconv/CoordinateIndex, so both answer alike.
// Every index that can exceed 2^31 (slots, rows x offsets, rows x mask words) is 64-bit.
// lacuna-variants: BLOCK=256
#include "lacuna_common.cuh"
#include "lacuna_coord_hash.cuh"

#ifndef BLOCK
#define BLOCK 256
#endif
#include "lacuna_radix_sort.cuh"

// Inserts keys[i] -> i. slots must be filled with EMPTY and rows with -1 first. A key held by several rows sets
// *duplicate to the largest of those rows + 1 (over all repeated keys: the largest such row), which the host turns
// into an error. Deterministic whatever the thread order: every thread of a key, the one that claimed the slot
// included, records its row with atomicMax on the slot's row, and the last of them sees the largest of the others.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_hash_insert(const unsigned long long* __restrict__ keys, long long n, unsigned long long* slots, int* rows,
                  unsigned long long capacity, int* duplicate) {
    const unsigned long long mask = capacity - 1;
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        const unsigned long long slot = coord_insert(slots, mask, keys[i]);
        const int other = atomicMax(rows + slot, (int)i);
        if (other >= 0) {
            atomicMax(duplicate, max(other, (int)i) + 1);
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
        const long long batch = (long long)(key >> 48);
        const int x = coord_axis(key, 0);
        const int y = coord_axis(key, 1);
        const int z = coord_axis(key, 2);
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
                found = coord_find(slots, rows, mask, coord_pack(batch, nx, ny, nz));
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

// The exclusive prefix sum of counts[0, cells) into chunk_start, on the device so that the host never reads the
// counts: one block walks the cells BLOCK at a time (a shared-memory scan per step, the running total carried).
// cells = groups x chunks, group-major (coord_map_chunk_counts' layout: offset v, then chunk); group_start[g] is
// where group g begins and group_start[groups] the total: for a map, the pair starts per offset. Launch 1 block.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_scan_chunks(const unsigned int* __restrict__ counts, long long cells, long long chunks,
                  long long* __restrict__ chunk_start, long long* __restrict__ group_start) {
    __shared__ long long partial[BLOCK];
    __shared__ long long carry;
    const int t = threadIdx.x;
    if (t == 0) {
        carry = 0;
    }
    __syncthreads();
    for (long long base = 0; base < cells; base += BLOCK) {
        const long long i = base + t;
        const long long value = i < cells ? (long long)counts[i] : 0;
        partial[t] = value;
        __syncthreads();
        for (int step = 1; step < BLOCK; step <<= 1) {
            const long long left = t >= step ? partial[t - step] : 0;
            __syncthreads();
            partial[t] += left;
            __syncthreads();
        }
        if (i < cells) {
            const long long start = carry + partial[t] - value;
            chunk_start[i] = start;
            if (i % chunks == 0) {
                group_start[i / chunks] = start;
            }
        }
        __syncthreads();
        if (t == BLOCK - 1) {
            carry += partial[BLOCK - 1];
        }
        __syncthreads();
    }
    if (t == 0 && chunks > 0) {
        group_start[cells / chunks] = carry;
    }
}

// The [volume][3] grid steps of a kernel, as ConvGeometry.deltas computes them on the host: offset index x slowest,
// z fastest; along an axis of size k the offsets are -(k-1)/2 .. (k-1)/2 for odd k and 0 .. k-1 for even k, times
// step (dilation x tensor stride) and sign (-1 for a transposed map, which looks from the fine set back at the
// coarse one). The host checked that no product overflows when it built its own map.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_map_deltas(int kx, int ky, int kz, int sx, int sy, int sz, int sign, int* __restrict__ deltas) {
    const int volume = kx * ky * kz;
    for (int v = blockIdx.x * BLOCK + threadIdx.x; v < volume; v += gridDim.x * BLOCK) {
        const int ix = v / (ky * kz), iy = v / kz % ky, iz = v % kz;
        const int ox = (kx % 2 == 1 ? -(kx - 1) / 2 : 0) + ix;
        const int oy = (ky % 2 == 1 ? -(ky - 1) / 2 : 0) + iy;
        const int oz = (kz % 2 == 1 ? -(kz - 1) / 2 : 0) + iz;
        deltas[3 * v] = sign * ox * sx;
        deltas[3 * v + 1] = sign * oy * sy;
        deltas[3 * v + 2] = sign * oz * sz;
    }
}

// The sort keys below are sorted by the radix sort (lacuna_radix_sort.cuh) carrying each key's index, so ties stay
// in index order.
//
// A downsampling's output keys, step 1: each input key floored to the coarser tensor stride (sx, sy, sz), batch
// kept. Sorted, the distinct keys in key order are the host's (KernelMapBuilder: floor, sort, deduplicate). The host
// checked the floored coordinates are in range when it built its own set.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_downsample_keys(const unsigned long long* __restrict__ keys, long long n, int sx, int sy, int sz,
                      unsigned long long* __restrict__ sort_keys) {
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        const unsigned long long key = keys[i];
        const int c[3] = {coord_axis(key, 0), coord_axis(key, 1), coord_axis(key, 2)};
        const int s[3] = {sx, sy, sz};
        int floored[3];
        for (int axis = 0; axis < 3; axis++) {
            const int q = c[axis] >= 0 ? c[axis] / s[axis] : -((-c[axis] + s[axis] - 1) / s[axis]);
            floored[axis] = q * s[axis];
        }
        sort_keys[i] = coord_pack((long long)(key >> 48), floored[0], floored[1], floored[2]);
    }
}

// Step 2: over the sorted keys, flags[i] = i where a run of equal keys starts, else -1: a one-offset "neighbour
// table" whose pair list (coord_map_chunk_counts, coord_scan_chunks, coord_map_pairs with volume 1) lists the first
// row of each distinct key in order.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_unique_flags(const unsigned long long* __restrict__ sorted, long long n, int* __restrict__ flags) {
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        flags[i] = i == 0 || sorted[i] != sorted[i - 1] ? (int)i : -1;
    }
}

// Step 3: out[j] = sorted[first[j]] for the count distinct keys.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_gather_keys(const unsigned long long* __restrict__ sorted, const int* __restrict__ first, long long count,
                  unsigned long long* __restrict__ out) {
    for (long long j = (long long)blockIdx.x * BLOCK + threadIdx.x; j < count; j += (long long)gridDim.x * BLOCK) {
        out[j] = sorted[first[j]];
    }
}

// The implicit GEMM's row order for the offsets [from, to): sort keys that put rows with the same bitmask together,
// larger masks first, ties in row order (MapStatistics.sortedRows on the host): key = ~(the group's bits). Only
// the low min(to - from, 64) bits vary, so the host sorts only the bytes that hold them. A group of more than 64
// offsets sorts by its top 64 offsets' bits (the host compares all of them; rows that tie on the top 64 keep row
// order here, which changes only which rows share a tile, never a result).
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_rows_by_mask(const unsigned long long* __restrict__ masks, long long n, int mask_words, int from, int to,
                   unsigned long long* __restrict__ sort_keys) {
    const int low = max(from, to - 64);
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        unsigned long long bits = 0;
        for (int v = low; v < to; v++) {
            bits |= ((masks[i * mask_words + v / 64] >> (v % 64)) & 1ull) << (v - low);
        }
        sort_keys[i] = ~bits;
    }
}

// The identity order 0 .. n-1: the implicit GEMM's unsorted row order.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_identity(long long n, int* __restrict__ rows) {
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        rows[i] = (int)i;
    }
}

// The offsets by descending pair count, ties in offset order (the gather-scatter's launch groups, as
// CudaConvolutionOps.offsetGroups cuts them on the host from the same counts): key = ~count. A count is at most
// the output rows, so only the bytes that hold that many vary.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_offset_order_keys(const long long* __restrict__ pair_start, int volume, unsigned long long* __restrict__ keys) {
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < volume; i += (long long)gridDim.x * BLOCK) {
        keys[i] = ~(unsigned long long)(pair_start[i + 1] - pair_start[i]);
    }
}

// A set's packed keys as the I32 [n, 4] (batch, x, y, z) rows a sparse tensor's coordinates tensor holds
// (CoordinateSet.coordinates on the host): how a layer's output gets its coordinates without an upload.
extern "C" __global__ void __launch_bounds__(BLOCK)
coord_unpack(const unsigned long long* __restrict__ keys, long long n, int* __restrict__ coordinates) {
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        const unsigned long long key = keys[i];
        coordinates[4 * i] = (int)(key >> 48);
        coordinates[4 * i + 1] = coord_axis(key, 0);
        coordinates[4 * i + 2] = coord_axis(key, 1);
        coordinates[4 * i + 3] = coord_axis(key, 2);
    }
}

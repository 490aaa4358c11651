// Voxelisation on the GPU, computing exactly what runtime/.../pointcloud/CpuVoxelizer computes: the same keys (the
// division in double, floor, range check), the same voxels in CoordinateKey order, and each voxel's reduction over
// its points in input order, so MEAN (summed in double) and FIRST agree with the reference bit for bit.
//
// Steps (the host, runtime/.../internal/cuda/CudaVoxelizer, drives them):
//   voxel_keys         per point: its key, or the first invalid point's index (atomicMin: any thread order)
//   voxel_insert       per point: its key into an open-addressing table (lacuna_coord_hash.cuh's hash, the probing of sparseconv_map.cu,
//                      power-of-two capacity >= 2N, all-ones EMPTY, full 64-bit compare), its slot, and per slot
//                      the point count (atomicAdd) and the first point (atomicMin)
//   voxel_compact      the occupied slots and their keys, in any order: the host sorts the M keys
//   voxel_rank         slot -> rank (the host's sorted order), and per voxel its count and first point
//   voxel_point_voxel  per point: its voxel
//   voxel_bucket       (MEAN) per point: its index into its voxel's list, in atomic order...
//   voxel_bucket_sort  ...then each list in point order (one warp per voxel, rank sort), so the order is the input
//                      order whatever the atomics did
//   voxel_mean         per voxel: the mean in double over its points in input order
//   voxel_first        per voxel: its first point's values
// lacuna-variants: BLOCK=256
#include "lacuna_common.cuh"
#include "lacuna_coord_hash.cuh"

#ifndef BLOCK
#define BLOCK 256
#endif

#define VOXEL_MIN ((double)COORD_MIN)
#define VOXEL_MAX ((double)COORD_MAX)

// Written as CpuVoxelizer.inRange: NaN and the infinities fail.
__device__ __forceinline__ bool voxel_in_range(double cell) {
    return cell >= VOXEL_MIN && cell <= VOXEL_MAX;
}

// keys[i] = the key of point i, or EMPTY with *bad = min(*bad, i). *bad must start at 0x7FFFFFFF.
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_keys(const float* __restrict__ xs, const float* __restrict__ ys, const float* __restrict__ zs,
           const int* __restrict__ batches, long long n, double size_x, double size_y, double size_z,
           unsigned long long* __restrict__ keys, int* bad) {
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        // IEEE double division and floor, as Math.floor(coordinate / size) in Voxelization.cell.
        const double cx = floor(__ddiv_rn((double)xs[i], size_x));
        const double cy = floor(__ddiv_rn((double)ys[i], size_y));
        const double cz = floor(__ddiv_rn((double)zs[i], size_z));
        unsigned long long key = COORD_EMPTY;
        if (voxel_in_range(cx) && voxel_in_range(cy) && voxel_in_range(cz)) {
            key = ((unsigned long long)(unsigned int)batches[i] << 48)
                | ((unsigned long long)((int)cx + COORD_BIAS) << 32)
                | ((unsigned long long)((int)cy + COORD_BIAS) << 16)
                | (unsigned long long)((int)cz + COORD_BIAS);
        } else {
            atomicMin(bad, (int)i);
        }
        keys[i] = key;
    }
}

// slots filled with EMPTY, slot_count with 0 and slot_first with 0xFFFFFFFF first. Every key is valid here.
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_insert(const unsigned long long* __restrict__ keys, long long n, unsigned long long* slots,
             unsigned long long capacity, long long* __restrict__ point_slot, int* slot_count,
             unsigned int* slot_first) {
    const unsigned long long mask = capacity - 1;
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        const unsigned long long key = keys[i];
        unsigned long long slot = coord_hash(key) & mask;
        while (true) {
            const unsigned long long previous = atomicCAS(slots + slot, COORD_EMPTY, key);
            if (previous == COORD_EMPTY || previous == key) {
                break;
            }
            slot = (slot + 1) & mask;
        }
        point_slot[i] = (long long)slot;
        atomicAdd(slot_count + slot, 1);
        atomicMin(slot_first + slot, (unsigned int)i);
    }
}

// The occupied slots (out_slots) and their keys (out_keys), at positions handed out by *counter (from 0).
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_compact(const unsigned long long* __restrict__ slots, unsigned long long capacity, int* counter,
              unsigned long long* __restrict__ out_keys, long long* __restrict__ out_slots) {
    for (long long s = (long long)blockIdx.x * BLOCK + threadIdx.x; s < (long long)capacity;
         s += (long long)gridDim.x * BLOCK) {
        const unsigned long long key = slots[s];
        if (key != COORD_EMPTY) {
            const int at = atomicAdd(counter, 1);
            out_keys[at] = key;
            out_slots[at] = s;
        }
    }
}

// Entry j of the compaction is voxel ranks[j]: the slot learns its voxel, the voxel its count and first point.
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_rank(const long long* __restrict__ out_slots, const int* __restrict__ ranks, long long m,
           const int* __restrict__ slot_count, const unsigned int* __restrict__ slot_first, int* __restrict__ slot_rank,
           int* __restrict__ voxel_count, int* __restrict__ voxel_first) {
    for (long long j = (long long)blockIdx.x * BLOCK + threadIdx.x; j < m; j += (long long)gridDim.x * BLOCK) {
        const long long slot = out_slots[j];
        const int rank = ranks[j];
        slot_rank[slot] = rank;
        voxel_count[rank] = slot_count[slot];
        voxel_first[rank] = (int)slot_first[slot];
    }
}

extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_point_voxel(const long long* __restrict__ point_slot, long long n, const int* __restrict__ slot_rank,
                  int* __restrict__ point_voxel) {
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        point_voxel[i] = slot_rank[point_slot[i]];
    }
}

// members[start[v] .. start[v+1]) receives voxel v's points in atomic order. fill zeroed first.
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_bucket(const int* __restrict__ point_voxel, long long n, const long long* __restrict__ start, int* fill,
             int* __restrict__ members) {
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        const int v = point_voxel[i];
        const int at = atomicAdd(fill + v, 1);
        members[start[v] + at] = (int)i;
    }
}

// One warp per voxel: each member's place in sorted is the number of members with a smaller index (indices are
// distinct), so sorted holds each list in input order. Quadratic in the list length: the host sorts on the host
// instead when a voxel holds more points than CudaVoxelizer's device limit.
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_bucket_sort(const int* __restrict__ members, const long long* __restrict__ start, long long m,
                  int* __restrict__ sorted) {
    const int lane = threadIdx.x & 31;
    const long long warps = (long long)gridDim.x * (BLOCK / 32);
    for (long long v = ((long long)blockIdx.x * BLOCK + threadIdx.x) >> 5; v < m; v += warps) {
        const long long from = start[v];
        const long long to = start[v + 1];
        for (long long e = from + lane; e < to; e += 32) {
            const int mine = members[e];
            long long below = 0;
            for (long long o = from; o < to; o++) {
                below += members[o] < mine ? 1 : 0;
            }
            sorted[from + below] = mine;
        }
    }
}

// positions [M, 3] and out_channels [M, C] from channels [C][n] (channel-major), summed in double in list order.
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_mean(const int* __restrict__ sorted, const long long* __restrict__ start, long long m,
           const float* __restrict__ xs, const float* __restrict__ ys, const float* __restrict__ zs,
           const float* __restrict__ channels, int c, long long n, float* __restrict__ positions,
           float* __restrict__ out_channels) {
    for (long long v = (long long)blockIdx.x * BLOCK + threadIdx.x; v < m; v += (long long)gridDim.x * BLOCK) {
        const long long from = start[v];
        const long long to = start[v + 1];
        const double count = (double)(to - from);
        for (int a = 0; a < 3 + c; a++) {
            const float* __restrict__ values = a == 0 ? xs : a == 1 ? ys : a == 2 ? zs : channels + (a - 3) * n;
            double sum = 0.0;
            for (long long j = from; j < to; j++) {
                sum = __dadd_rn(sum, (double)values[sorted[j]]);
            }
            const float mean = __double2float_rn(__ddiv_rn(sum, count));
            if (a < 3) {
                positions[3 * v + a] = mean;
            } else {
                out_channels[(long long)c * v + (a - 3)] = mean;
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_first(const int* __restrict__ voxel_first, long long m, const float* __restrict__ xs,
            const float* __restrict__ ys, const float* __restrict__ zs, const float* __restrict__ channels, int c,
            long long n, float* __restrict__ positions, float* __restrict__ out_channels) {
    for (long long v = (long long)blockIdx.x * BLOCK + threadIdx.x; v < m; v += (long long)gridDim.x * BLOCK) {
        const long long p = voxel_first[v];
        positions[3 * v] = xs[p];
        positions[3 * v + 1] = ys[p];
        positions[3 * v + 2] = zs[p];
        for (int k = 0; k < c; k++) {
            out_channels[(long long)c * v + k] = channels[k * n + p];
        }
    }
}

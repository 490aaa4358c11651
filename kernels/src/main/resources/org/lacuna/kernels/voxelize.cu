// Voxelisation on the GPU, computing exactly what runtime/.../cpu/CpuVoxelizer computes: the same keys (the
// division in double, floor, range check), the same voxels in CoordinateKey order, and each voxel's reduction over
// its points in input order, so MEAN (summed in double) and FIRST agree with the reference bit for bit. Nothing goes
// to the host between the points' upload and the result's download but two counts (the first invalid point, M).
//
// Steps (the host, runtime/.../internal/cuda/CudaVoxelizationOps, drives them):
//   voxel_keys          per point: its key, or the first invalid point's index (atomicMin: any thread order)
//   voxel_insert        per point: its key into the coordinate hash table (lacuna_coord_hash.cuh's coord_insert,
//                       the one sparseconv_map.cu uses), its slot, and per slot the point count (atomicAdd) and the
//                       first point (atomicMin)
//   voxel_compact       the occupied slots and their keys, in any order
//   radix_sort_*        the stable device radix sort (lacuna_radix_sort.cuh, shared with sparseconv_map.cu): the M
//                       distinct keys into CoordinateKey (unsigned) order, carrying their compaction index
//   voxel_rank          rank r holds compaction entry order[r]: the slot learns its voxel, the voxel its count and
//                       first point
//   voxel_point_voxel   per point: its voxel (and the voxel as a sort key, for MEAN)
//   (MEAN) the points sorted stably by voxel with the same radix sort: each voxel's list in input order;
//   voxel_list_starts   where each voxel's list starts
//   voxel_mean          per voxel: the mean in double over its points in input order
//   voxel_first         per voxel: its first point's values
//
// The family's other ops, on tensors already on the device (coordinates I32 [N, 4] (batch, x, y, z)):
//   voxel_batch_pool_*  global MAX or MEAN pooling per batch sample: one thread per (sample, channel) scans the rows
//                       in order (a fixed-order reduction)
//   voxel_bev_index     bird's-eye view, step 1: each row's cell of the dense [B, Z, Y, X] grid learns its row
//                       (coordinates are distinct, so no two rows share a cell)
//   voxel_bev_gather_*  step 2: per output element, STACK_Z reads its cell, SUM and MAX reduce the column over z in
//                       ascending z
//   voxel_table_insert  devoxelisation, step 1: the coordinates into an open-addressing table, slot -> row
//   voxel_devoxelize_*  step 2: per point, the voxel containing it (NEAREST) or the 8 voxel centres around it
//                       weighted trilinearly, absent ones skipped and the rest renormalised (TRILINEAR), the corners
//                       in a fixed order
// The *_f32, *_f16 and *_bf16 entry points differ only in the feature type they read (and devoxelisation writes).
// lacuna-variants: BLOCK=256
#include "lacuna_common.cuh"
#include "lacuna_coord_hash.cuh"

#ifndef BLOCK
#define BLOCK 256
#endif
#include "lacuna_radix_sort.cuh"

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
            key = coord_pack((unsigned int)batches[i], (int)cx, (int)cy, (int)cz);
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
        const unsigned long long slot = coord_insert(slots, mask, keys[i]);
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

// Rank r is compaction entry order[r] (the radix sort's carried index): the slot learns its voxel, the voxel its
// count and first point.
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_rank(const long long* __restrict__ out_slots, const int* __restrict__ order, long long m,
           const int* __restrict__ slot_count, const unsigned int* __restrict__ slot_first, int* __restrict__ slot_rank,
           int* __restrict__ voxel_count, int* __restrict__ voxel_first) {
    for (long long r = (long long)blockIdx.x * BLOCK + threadIdx.x; r < m; r += (long long)gridDim.x * BLOCK) {
        const long long slot = out_slots[order[r]];
        slot_rank[slot] = (int)r;
        voxel_count[r] = slot_count[slot];
        voxel_first[r] = (int)slot_first[slot];
    }
}

// voxel_keys_out (may be null): the voxel again as a 64-bit key, for sorting the points by voxel.
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_point_voxel(const long long* __restrict__ point_slot, long long n, const int* __restrict__ slot_rank,
                  int* __restrict__ point_voxel, unsigned long long* __restrict__ voxel_keys_out) {
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        const int v = slot_rank[point_slot[i]];
        point_voxel[i] = v;
        if (voxel_keys_out != 0) voxel_keys_out[i] = (unsigned long long)v;
    }
}

// sorted_voxel: the points' voxels in sorted order (every voxel has a point); start[v] its list's first position,
// start[m] = n.
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_list_starts(const unsigned long long* __restrict__ sorted_voxel, long long n, long long m,
                  long long* __restrict__ start) {
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < n; i += (long long)gridDim.x * BLOCK) {
        const unsigned long long v = sorted_voxel[i];
        if (i == 0 || sorted_voxel[i - 1] != v) start[v] = i;
        if (i == n - 1) start[m] = n;
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

// ---- The family's ops on device tensors: pooling, bird's-eye view, devoxelisation ----

// Floor division by a positive divisor (Java's Math.floorDiv).
__device__ __forceinline__ long long voxel_floor_div(long long a, long long b) {
    long long q = a / b;
    if (a % b != 0 && a < 0) q--;
    return q;
}

// A NaN propagates (Java's Math.max), unlike fmaxf.
__device__ __forceinline__ float voxel_max(float acc, float v) {
    return v > acc || v != v ? v : acc;
}

// out[b, ch] over the rows of sample b in row order; 0 for a sample without rows. mean: 0 MAX, 1 MEAN.
template <typename In>
__device__ __forceinline__ void voxel_batch_pool(const typename In::type* __restrict__ x, const int* __restrict__ coords,
                                                 long long rows, long long c, long long batches, int mean,
                                                 float* __restrict__ out) {
    for (long long e = (long long)blockIdx.x * BLOCK + threadIdx.x; e < batches * c;
         e += (long long)gridDim.x * BLOCK) {
        const long long b = e / c;
        const long long ch = e - b * c;
        float acc = mean ? 0.0f : -__int_as_float(0x7f800000);
        long long count = 0;
        for (long long r = 0; r < rows; r++) {
            if (coords[4 * r] != b) continue;
            const float v = In::load(x[r * c + ch]);
            acc = mean ? acc + v : voxel_max(acc, v);
            count++;
        }
        out[e] = count == 0 ? 0.0f : mean ? acc / (float)count : acc;
    }
}

extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_batch_pool_f32(const float* __restrict__ x, const int* __restrict__ coords, long long rows, long long c,
                     long long batches, int mean, float* __restrict__ out) {
    voxel_batch_pool<LacunaStorage<LACUNA_DTYPE_f32> >(x, coords, rows, c, batches, mean, out);
}

extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_batch_pool_f16(const lacuna_f16* __restrict__ x, const int* __restrict__ coords, long long rows, long long c,
                     long long batches, int mean, float* __restrict__ out) {
    voxel_batch_pool<LacunaStorage<LACUNA_DTYPE_f16> >(x, coords, rows, c, batches, mean, out);
}

extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_batch_pool_bf16(const lacuna_bf16* __restrict__ x, const int* __restrict__ coords, long long rows, long long c,
                      long long batches, int mean, float* __restrict__ out) {
    voxel_batch_pool<LacunaStorage<LACUNA_DTYPE_bf16> >(x, coords, rows, c, batches, mean, out);
}

// index [B, Z, Y, X], filled with -1 first: the row whose coordinate falls in each cell. A row outside the grid or
// the batch range is left out (the caller checks the extent beforehand and names such a row).
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_bev_index(const int* __restrict__ coords, long long rows, int ox, int oy, int oz, int sx, int sy, int sz,
                int cx, int cy, int cz, long long batches, int* __restrict__ index) {
    for (long long r = (long long)blockIdx.x * BLOCK + threadIdx.x; r < rows; r += (long long)gridDim.x * BLOCK) {
        const long long b = coords[4 * r];
        const long long ix = voxel_floor_div((long long)coords[4 * r + 1] - ox, sx);
        const long long iy = voxel_floor_div((long long)coords[4 * r + 2] - oy, sy);
        const long long iz = voxel_floor_div((long long)coords[4 * r + 3] - oz, sz);
        if (b >= 0 && b < batches && ix >= 0 && ix < cx && iy >= 0 && iy < cy && iz >= 0 && iz < cz) {
            index[((b * cz + iz) * cy + iy) * cx + ix] = (int)r;
        }
    }
}

// out [B, C·Z, Y, X] (mode 0, STACK_Z: channel ch·Z + z) or [B, C, Y, X] (1 SUM, 2 MAX over z in ascending z; an
// empty column is 0).
template <typename In>
__device__ __forceinline__ void voxel_bev_gather(const typename In::type* __restrict__ x, const int* __restrict__ index,
                                                 long long c, long long batches, int cx, int cy, int cz, int mode,
                                                 float* __restrict__ out) {
    const long long plane = (long long)cy * cx;
    const long long out_c = mode == 0 ? c * cz : c;
    const long long total = batches * out_c * plane;
    for (long long e = (long long)blockIdx.x * BLOCK + threadIdx.x; e < total; e += (long long)gridDim.x * BLOCK) {
        const long long pixel = e % plane;
        const long long channel = (e / plane) % out_c;
        const long long b = e / (plane * out_c);
        float value = 0.0f;
        if (mode == 0) {
            const long long ch = channel / cz;
            const long long z = channel - ch * cz;
            const int row = index[(b * cz + z) * plane + pixel];
            if (row >= 0) value = In::load(x[(long long)row * c + ch]);
        } else {
            bool seen = false;
            for (long long z = 0; z < cz; z++) {
                const int row = index[(b * cz + z) * plane + pixel];
                if (row < 0) continue;
                const float v = In::load(x[(long long)row * c + channel]);
                value = !seen ? v : mode == 1 ? value + v : voxel_max(value, v);
                seen = true;
            }
        }
        out[e] = value;
    }
}

extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_bev_gather_f32(const float* __restrict__ x, const int* __restrict__ index, long long c, long long batches,
                     int cx, int cy, int cz, int mode, float* __restrict__ out) {
    voxel_bev_gather<LacunaStorage<LACUNA_DTYPE_f32> >(x, index, c, batches, cx, cy, cz, mode, out);
}

extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_bev_gather_f16(const lacuna_f16* __restrict__ x, const int* __restrict__ index, long long c, long long batches,
                     int cx, int cy, int cz, int mode, float* __restrict__ out) {
    voxel_bev_gather<LacunaStorage<LACUNA_DTYPE_f16> >(x, index, c, batches, cx, cy, cz, mode, out);
}

extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_bev_gather_bf16(const lacuna_bf16* __restrict__ x, const int* __restrict__ index, long long c, long long batches,
                      int cx, int cy, int cz, int mode, float* __restrict__ out) {
    voxel_bev_gather<LacunaStorage<LACUNA_DTYPE_bf16> >(x, index, c, batches, cx, cy, cz, mode, out);
}

// slots filled with EMPTY first; coordinates distinct. slot_row[slot] = the row whose key the slot holds.
extern "C" __global__ void __launch_bounds__(BLOCK)
voxel_table_insert(const int* __restrict__ coords, long long rows, unsigned long long* slots,
                   int* __restrict__ slot_row, unsigned long long capacity) {
    const unsigned long long mask = capacity - 1;
    for (long long r = (long long)blockIdx.x * BLOCK + threadIdx.x; r < rows; r += (long long)gridDim.x * BLOCK) {
        const unsigned long long key = coord_pack(coords[4 * r], coords[4 * r + 1], coords[4 * r + 2],
                                                  coords[4 * r + 3]);
        slot_row[coord_insert(slots, mask, key)] = (int)r;
    }
}

// The row holding (b, x, y, z), or -1 (also for a coordinate no key can hold).
__device__ __forceinline__ int voxel_table_find(const unsigned long long* __restrict__ slots,
                                                const int* __restrict__ slot_row, unsigned long long capacity,
                                                long long b, long long x, long long y, long long z) {
    if (b < 0 || b > 65534 || x < COORD_MIN || x > COORD_MAX || y < COORD_MIN || y > COORD_MAX || z < COORD_MIN
        || z > COORD_MAX) {
        return -1;
    }
    return coord_find(slots, slot_row, capacity - 1, coord_pack(b, x, y, z));
}

// A grid coordinate far outside the key range, clamped before the cast to an integer (which would be undefined).
__device__ __forceinline__ long long voxel_clamped_cell(double v) {
    return v < -1e12 ? -1000000000000ll : v > 1e12 ? 1000000000000ll : (long long)v;
}

// out [P, C] per point (points [P, 3] F32, point_batch [P] I32): trilinear 0 NEAREST, 1 TRILINEAR. A point none of
// whose voxels is present gets zeros (the caller checks beforehand and names such a point).
template <typename T>
__device__ __forceinline__ void voxel_devoxelize(const float* __restrict__ points, const int* __restrict__ point_batch,
                                                 long long p, double size_x, double size_y, double size_z, int stride_x,
                                                 int stride_y, int stride_z, const unsigned long long* __restrict__ slots,
                                                 const int* __restrict__ slot_row, unsigned long long capacity,
                                                 const typename T::type* __restrict__ x, long long c, int trilinear,
                                                 typename T::type* __restrict__ out) {
    const double size[3] = {size_x, size_y, size_z};
    const long long stride[3] = {stride_x, stride_y, stride_z};
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < p; i += (long long)gridDim.x * BLOCK) {
        const long long b = point_batch[i];
        double g[3];
        for (int a = 0; a < 3; a++) g[a] = __ddiv_rn((double)points[3 * i + a], size[a]);
        int rows[8];
        float weights[8];
        int corners = 0;
        if (!trilinear) {
            long long v[3];
            for (int a = 0; a < 3; a++) v[a] = voxel_floor_div(voxel_clamped_cell(floor(g[a])), stride[a]) * stride[a];
            const int row = voxel_table_find(slots, slot_row, capacity, b, v[0], v[1], v[2]);
            if (row >= 0) {
                rows[0] = row;
                weights[0] = 1.0f;
                corners = 1;
            }
        } else {
            long long base[3];
            double frac[3];
            for (int a = 0; a < 3; a++) {
                const double u = __ddiv_rn(g[a] - (double)stride[a] / 2.0, (double)stride[a]);
                const double k = floor(u);
                base[a] = voxel_clamped_cell(k);
                frac[a] = u - k;
            }
            double w_of[8];
            double total = 0.0;
            for (int corner = 0; corner < 8; corner++) {
                double w = 1.0;
                long long v[3];
                for (int a = 0; a < 3; a++) {
                    const int d = corner >> (2 - a) & 1;
                    w = __dmul_rn(w, d == 0 ? 1.0 - frac[a] : frac[a]);
                    v[a] = (base[a] + d) * stride[a];
                }
                if (!(w > 0.0)) continue;
                const int row = voxel_table_find(slots, slot_row, capacity, b, v[0], v[1], v[2]);
                if (row < 0) continue;
                total = __dadd_rn(total, w);
                rows[corners] = row;
                w_of[corners] = w;
                corners++;
            }
            for (int k = 0; k < corners; k++) weights[k] = __double2float_rn(__ddiv_rn(w_of[k], total));
        }
        for (long long ch = 0; ch < c; ch++) {
            float acc = 0.0f;
            for (int k = 0; k < corners; k++) acc = __fadd_rn(acc, __fmul_rn(weights[k], T::load(x[(long long)rows[k] * c + ch])));
            out[i * c + ch] = T::store(acc);
        }
    }
}

#define VOXEL_DEVOXELIZE_PARAMETERS(TYPE)                                                                              \
    const float* __restrict__ points, const int* __restrict__ point_batch, long long p, double size_x, double size_y,  \
    double size_z, int stride_x, int stride_y, int stride_z, const unsigned long long* __restrict__ slots,              \
    const int* __restrict__ slot_row, unsigned long long capacity, const TYPE* __restrict__ x, long long c,             \
    int trilinear, TYPE* __restrict__ out
#define VOXEL_DEVOXELIZE_ARGUMENTS                                                                                     \
    points, point_batch, p, size_x, size_y, size_z, stride_x, stride_y, stride_z, slots, slot_row, capacity, x, c,     \
    trilinear, out

extern "C" __global__ void __launch_bounds__(BLOCK) voxel_devoxelize_f32(VOXEL_DEVOXELIZE_PARAMETERS(float)) {
    voxel_devoxelize<LacunaStorage<LACUNA_DTYPE_f32> >(VOXEL_DEVOXELIZE_ARGUMENTS);
}

extern "C" __global__ void __launch_bounds__(BLOCK) voxel_devoxelize_f16(VOXEL_DEVOXELIZE_PARAMETERS(lacuna_f16)) {
    voxel_devoxelize<LacunaStorage<LACUNA_DTYPE_f16> >(VOXEL_DEVOXELIZE_ARGUMENTS);
}

extern "C" __global__ void __launch_bounds__(BLOCK) voxel_devoxelize_bf16(VOXEL_DEVOXELIZE_PARAMETERS(lacuna_bf16)) {
    voxel_devoxelize<LacunaStorage<LACUNA_DTYPE_bf16> >(VOXEL_DEVOXELIZE_ARGUMENTS);
}

// Token selection for token-dropping attention, entirely on the device: per sequence of a ragged batch, keep the
// pinned tokens (the first `pinned_prefix` positions, e.g. CLS, and any token the optional mask marks) plus
//   keep ratio r:  the ceil(r · n) − pinned best-scoring other items (n items in the sequence), ties to the earlier;
//   threshold θ:   every other item scoring ≥ θ;
// where an item is a token, or (grid_width > 0) a window: the positions after the prefix laid out row-major on a
// grid `grid_width` wide, cut into window_height x window_width windows (SparseViT keeps whole windows). A window
// scores the mean of its tokens' scores (fp32, summed in position order), is pinned if any of its tokens is, and
// keeps or drops all of its tokens together. Kept tokens stay in their original order.
//
// Two launches, no host round-trip:
//   select_tokens      one CTA a sequence. Writes the sequence's kept tokens (global row indices) to staged[] at its
//                      own input offset, its count, and slot_of = -1 for its dropped tokens; the last CTA to finish
//                      (a ticket counter it resets afterwards) scans the counts into kept_cu (the kept batch's
//                      cu_seqlens) and records the first NaN score's row (or -1) and whether `capacity` sufficed.
//   compact_selection  one CTA a sequence: moves staged[] to kept_index[] at the kept offsets, sets slot_of for kept
//                      tokens, and pads kept_index with -1 up to capacity.
// NaN scores rank below everything (key 0) so a run with bad scores still ends in a valid selection; the status says
// which row was NaN. The top-k is a 4-pass radix select (8 bits a pass) over order-preserving keys, so selection
// costs a few reads of the scores whatever k is.
// lacuna-variants: BLOCK=512
#include "lacuna_common.cuh"

#ifndef BLOCK
#define BLOCK 512
#endif
#define WARPS (BLOCK / 32)
#define ITEMS 4
#define CHUNK (BLOCK * ITEMS)
#define INT_MAX_ 0x7fffffff

#define MODE_RATIO 0
#define MODE_THRESHOLD 1

#define TAKE_NONE 0
#define TAKE_ALL 1
#define TAKE_SELECT 2
#define TAKE_THRESHOLD 3

static_assert(BLOCK % 32 == 0 && BLOCK >= 256 && BLOCK <= 1024, "BLOCK must be 256..1024 whole warps");

// Order-preserving map of a float to unsigned (larger float, larger key); NaN maps to 0, below -inf's key.
__device__ __forceinline__ unsigned order_key(float score) {
    if (score != score) {
        return 0u;
    }
    const unsigned bits = __float_as_uint(score);
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// The inverse of order_key; key 0 gives a NaN, which no threshold comparison accepts.
__device__ __forceinline__ float key_value(unsigned key) {
    return __uint_as_float((key & 0x80000000u) ? (key & 0x7fffffffu) : ~key);
}

// Exclusive prefix sum over the CTA in thread order; `total` receives the sum. Every thread must call it.
__device__ __forceinline__ int block_exclusive_scan(int value, int& total, int* warp_sums) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    int inclusive = value;
#pragma unroll
    for (int offset = 1; offset < 32; offset <<= 1) {
        const int n = __shfl_up_sync(0xffffffffu, inclusive, offset);
        if (lane >= offset) {
            inclusive += n;
        }
    }
    if (lane == 31) {
        warp_sums[warp] = inclusive;
    }
    __syncthreads();
    if (warp == 0) {
        const int mine = lane < WARPS ? warp_sums[lane] : 0;
        int running = mine;
#pragma unroll
        for (int offset = 1; offset < 32; offset <<= 1) {
            const int n = __shfl_up_sync(0xffffffffu, running, offset);
            if (lane >= offset) {
                running += n;
            }
        }
        if (lane < WARPS) {
            warp_sums[lane] = running - mine;
        }
        if (lane == WARPS - 1) {
            warp_sums[WARPS] = running;
        }
    }
    __syncthreads();
    const int result = warp_sums[warp] + inclusive - value;
    total = warp_sums[WARPS];
    // The next scan reuses warp_sums.
    __syncthreads();
    return result;
}

__device__ __forceinline__ int block_min(int value, int* slot) {
    if (threadIdx.x == 0) {
        *slot = INT_MAX_;
    }
    __syncthreads();
    atomicMin(slot, value);
    __syncthreads();
    const int result = *slot;
    __syncthreads();
    return result;
}

// Stages the kept tokens among this thread's ITEMS positions first.. of a chunk (those below `count`) in position
// order after the `kept` staged so far, which it advances by the chunk's kept tokens; a dropped token gets slot -1.
// Every thread of the CTA calls it (a block scan).
__device__ __forceinline__ void stage_kept(const bool (&keep)[ITEMS], int keep_count, int first, int count, int start,
                                           int& kept, int* warp_sums, int* __restrict__ staged,
                                           int* __restrict__ slot_of) {
    int chunk_kept;
    int rank = kept + block_exclusive_scan(keep_count, chunk_kept, warp_sums);
    kept += chunk_kept;
#pragma unroll
    for (int i = 0; i < ITEMS; i++) {
        if (first + i < count) {
            const int row = start + first + i;
            if (keep[i]) {
                staged[start + rank] = row;
                rank++;
            } else {
                slot_of[row] = -1;
            }
        }
    }
}

// The item (window) holding grid position gp.
__device__ __forceinline__ int window_of(int gp, int grid_width, int window_height, int window_width, int window_cols) {
    return (gp / grid_width / window_height) * window_cols + (gp % grid_width) / window_width;
}

// (BLOCK, 1): with the minimum left out, ptxas for sm_80 squeezes this kernel into 32 registers and spills.
extern "C" __global__ void __launch_bounds__(BLOCK, 1)
select_tokens(const float* __restrict__ scores, const int* __restrict__ cu_seqlens, const int* __restrict__ pinned_mask,
              long long rows, int mode, double keep_ratio, float threshold, int pinned_prefix, int grid_width,
              int window_height, int window_width, unsigned* __restrict__ keys, int* __restrict__ flags,
              int* __restrict__ staged, int* __restrict__ slot_of, int* kept_counts, int* seq_nan, int* kept_cu,
              int* counter, int* status, int capacity) {
    __shared__ int warp_sums[WARPS + 1];
    __shared__ int histogram[256];
    __shared__ int found[2];
    __shared__ int reduction;
    __shared__ int last;

    const int b = blockIdx.x;
    const int start = (int)min((long long)max(cu_seqlens[b], 0), rows);
    const int len = (int)(min(max((long long)cu_seqlens[b + 1], (long long)start), rows) - start);
    const bool windows = grid_width > 0;
    const int prefix = min(max(pinned_prefix, 0), len);

    // Items: tokens, or the non-empty windows of the grid (they number the grid's windows row-major; the empty ones,
    // if any, are the tail of the last window row).
    int n_items = len;
    int grid_len = 0;
    int grid_rows = 0;
    int window_cols = 0;
    if (windows) {
        grid_len = len - prefix;
        grid_rows = (grid_len + grid_width - 1) / grid_width;
        window_cols = (grid_width + window_width - 1) / window_width;
        const int window_rows = (grid_rows + window_height - 1) / window_height;
        if (grid_len == 0) {
            n_items = 0;
        } else {
            const int last_row = window_rows - 1;
            const int remaining = grid_len - last_row * window_height * grid_width;
            n_items = last_row * window_cols + min(window_cols, (remaining + window_width - 1) / window_width);
        }
    }

    // Phase 1: a key and a pinned flag per item; NaN scores noted.
    int pinned_count = 0;
    int nan_row = INT_MAX_;
    for (int w = threadIdx.x; w < n_items; w += BLOCK) {
        float score;
        bool pinned;
        if (!windows) {
            const int row = start + w;
            score = scores[row];
            if (score != score) {
                nan_row = min(nan_row, row);
            }
            pinned = w < prefix || (pinned_mask != nullptr && pinned_mask[row] != 0);
        } else {
            const int wr = w / window_cols;
            const int wc = w % window_cols;
            const int r_end = min(grid_rows, (wr + 1) * window_height);
            const int c_end = min(grid_width, (wc + 1) * window_width);
            float sum = 0.0f;
            int count = 0;
            pinned = false;
            for (int r = wr * window_height; r < r_end; r++) {
                for (int c = wc * window_width; c < c_end; c++) {
                    const int gp = r * grid_width + c;
                    if (gp >= grid_len) {
                        break;
                    }
                    const int row = start + prefix + gp;
                    const float s = scores[row];
                    if (s != s) {
                        nan_row = min(nan_row, row);
                    }
                    sum += s;
                    count++;
                    pinned = pinned || (pinned_mask != nullptr && pinned_mask[row] != 0);
                }
            }
            score = sum / (float)count;
        }
        keys[start + w] = order_key(score);
        flags[start + w] = pinned ? 1 : 0;
        pinned_count += pinned ? 1 : 0;
    }
    if (windows) {
        // Prefix tokens are kept whatever their score, but a NaN is still bad input.
        for (int p = threadIdx.x; p < prefix; p += BLOCK) {
            const float s = scores[start + p];
            if (s != s) {
                nan_row = min(nan_row, start + p);
            }
        }
    }
    int n_pinned;
    block_exclusive_scan(pinned_count, n_pinned, warp_sums);
    nan_row = block_min(nan_row, &reduction);

    // Phase 2: how many of the free items to take, and the pivot key of a partial take.
    const int n_free = n_items - n_pinned;
    int take = TAKE_THRESHOLD;
    unsigned pivot = 0u;
    int quota = 0;
    if (mode == MODE_RATIO) {
        // The same double-precision expression as the CPU reference; the 1e-12 forgives r·n landing a hair above
        // an integer.
        const double exact = keep_ratio * (double)n_items * (1.0 - 1e-12);
        long long wanted = (long long)exact;  // ceil of a non-negative value, without a libdevice call
        if ((double)wanted < exact) {
            wanted++;
        }
        const int m = (int)max(0LL, min((long long)n_free, wanted - n_pinned));
        take = m == 0 ? TAKE_NONE : m == n_free ? TAKE_ALL : TAKE_SELECT;
        if (take == TAKE_SELECT) {
            // Radix select of the m-th largest free key, most significant byte first. `quota` ends as the number
            // of items equal to the pivot that are still to be taken (the earliest ones).
            unsigned prefix_bits = 0u;
            unsigned mask_bits = 0u;
            int remaining = m;
            for (int shift = 24; shift >= 0; shift -= 8) {
                for (int i = threadIdx.x; i < 256; i += BLOCK) {
                    histogram[i] = 0;
                }
                __syncthreads();
                for (int w = threadIdx.x; w < n_items; w += BLOCK) {
                    const unsigned key = keys[start + w];
                    if (flags[start + w] == 0 && (key & mask_bits) == prefix_bits) {
                        atomicAdd(&histogram[(key >> shift) & 255u], 1);
                    }
                }
                __syncthreads();
                // Thread i < 256 looks at digit 255 - i: `above` counts the free items with a larger digit.
                const int count = threadIdx.x < 256 ? histogram[255 - threadIdx.x] : 0;
                int unused;
                const int above = block_exclusive_scan(count, unused, warp_sums);
                if (threadIdx.x < 256 && above < remaining && above + count >= remaining) {
                    found[0] = 255 - threadIdx.x;
                    found[1] = above;
                }
                __syncthreads();
                remaining -= found[1];
                prefix_bits |= (unsigned)found[0] << shift;
                mask_bits |= 0xffu << shift;
                __syncthreads();
            }
            pivot = prefix_bits;
            quota = remaining;
        }
    }

    // Phase 3: decide every item in position order (ties to the pivot are taken earliest first), and for tokens
    // stage the kept ones in order at once.
    int ties_before_chunk = 0;
    int kept = 0;
    for (int chunk = 0; chunk < n_items; chunk += CHUNK) {
        const int first = chunk + threadIdx.x * ITEMS;
        unsigned item_key[ITEMS];
        int item_flag[ITEMS];
        int ties = 0;
#pragma unroll
        for (int i = 0; i < ITEMS; i++) {
            const bool valid = first + i < n_items;
            item_key[i] = valid ? keys[start + first + i] : 0u;
            item_flag[i] = valid ? flags[start + first + i] : -1;
            ties += (take == TAKE_SELECT && item_flag[i] == 0 && item_key[i] == pivot) ? 1 : 0;
        }
        int chunk_ties;
        int tie_rank = ties_before_chunk + block_exclusive_scan(ties, chunk_ties, warp_sums);
        ties_before_chunk += chunk_ties;
        bool keep[ITEMS];
        int keep_count = 0;
#pragma unroll
        for (int i = 0; i < ITEMS; i++) {
            bool k = item_flag[i] == 1;
            if (item_flag[i] == 0) {
                switch (take) {
                    case TAKE_ALL: k = true; break;
                    case TAKE_SELECT:
                        if (item_key[i] > pivot) {
                            k = true;
                        } else if (item_key[i] == pivot) {
                            k = tie_rank < quota;
                            tie_rank++;
                        }
                        break;
                    case TAKE_THRESHOLD: k = key_value(item_key[i]) >= threshold; break;
                    default: break;
                }
            }
            keep[i] = k;
            keep_count += k ? 1 : 0;
        }
        if (!windows) {
            stage_kept(keep, keep_count, first, n_items, start, kept, warp_sums, staged, slot_of);
        } else {
#pragma unroll
            for (int i = 0; i < ITEMS; i++) {
                if (first + i < n_items) {
                    flags[start + first + i] = keep[i] ? 1 : 0;
                }
            }
        }
    }
    if (windows) {
        // Window decisions of every thread are visible after this barrier; now stage the tokens in position order.
        __syncthreads();
        for (int chunk = 0; chunk < len; chunk += CHUNK) {
            const int first = chunk + threadIdx.x * ITEMS;
            bool keep[ITEMS];
            int keep_count = 0;
#pragma unroll
            for (int i = 0; i < ITEMS; i++) {
                const int p = first + i;
                keep[i] = p < len && (p < prefix || flags[start + window_of(p - prefix, grid_width, window_height,
                                                                          window_width, window_cols)] == 1);
                keep_count += keep[i] ? 1 : 0;
            }
            stage_kept(keep, keep_count, first, len, start, kept, warp_sums, staged, slot_of);
        }
    }

    if (threadIdx.x == 0) {
        kept_counts[b] = kept;
        seq_nan[b] = nan_row;
    }

    // Phase 4: the last CTA to finish turns the counts into the kept batch's offsets.
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) {
        last = atomicAdd(counter, 1) == (int)gridDim.x - 1 ? 1 : 0;
    }
    __syncthreads();
    if (!last) {
        return;
    }
    __threadfence();
    const volatile int* counts = kept_counts;
    const volatile int* nans = seq_nan;
    int offset = 0;
    int first_nan = INT_MAX_;
    for (int chunk = 0; chunk < (int)gridDim.x; chunk += BLOCK) {
        const int i = chunk + threadIdx.x;
        const int count = i < (int)gridDim.x ? counts[i] : 0;
        const int nan_here = i < (int)gridDim.x ? nans[i] : INT_MAX_;
        first_nan = min(first_nan, nan_here);
        int total;
        const int before = offset + block_exclusive_scan(count, total, warp_sums);
        if (i < (int)gridDim.x) {
            kept_cu[i] = before;
        }
        offset += total;
    }
    first_nan = block_min(first_nan, &reduction);
    if (threadIdx.x == 0) {
        kept_cu[gridDim.x] = offset;
        status[0] = first_nan == INT_MAX_ ? -1 : first_nan;
        status[1] = offset > capacity ? 1 : 0;
        // Ready for the next selection on this workspace.
        *counter = 0;
    }
}

extern "C" __global__ void __launch_bounds__(256)
compact_selection(const int* __restrict__ cu_seqlens, long long rows, const int* __restrict__ staged,
                  const int* __restrict__ kept_counts, int* __restrict__ kept_cu, int batch, int capacity,
                  int* __restrict__ kept_index, int* __restrict__ slot_of, int* __restrict__ status) {
    const int b = blockIdx.x;
    if (b < batch) {
        const int start = (int)min((long long)max(cu_seqlens[b], 0), rows);
        const int count = kept_counts[b];
        const int offset = kept_cu[b];
        for (int r = threadIdx.x; r < count; r += 256) {
            const int row = staged[start + r];
            const int slot = offset + r;
            // Only a capacity too small for the batch (offsets contradicting maxLength) gets here with slot >=
            // capacity: the token is dropped, and the status already says so.
            if (slot < capacity) {
                kept_index[slot] = row;
                slot_of[row] = slot;
            } else {
                slot_of[row] = -1;
            }
        }
    } else if (b == 0 && threadIdx.x == 0) {
        // An empty batch: select_tokens did not run, so the offsets and status are written here.
        kept_cu[0] = 0;
        status[0] = -1;
        status[1] = 0;
    }
    const long long stride = (long long)gridDim.x * 256;
    const long long total = batch == 0 ? 0 : kept_cu[batch];
    for (long long j = total + (long long)b * 256 + threadIdx.x; j < capacity; j += stride) {
        kept_index[j] = -1;
    }
    // Rows outside every sequence are never kept.
    const long long covered_begin = min((long long)max(cu_seqlens[0], 0), rows);
    const long long covered_end = min(max((long long)cu_seqlens[batch], covered_begin), rows);
    for (long long row = (long long)b * 256 + threadIdx.x; row < covered_begin; row += stride) {
        slot_of[row] = -1;
    }
    for (long long row = covered_end + (long long)b * 256 + threadIdx.x; row < rows; row += stride) {
        slot_of[row] = -1;
    }
}

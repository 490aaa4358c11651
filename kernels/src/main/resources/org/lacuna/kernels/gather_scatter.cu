// Row moves around token dropping, as raw bits (any dtype, nothing rounded):
//   gather_rows   out[j] = x[kept_index[j]] for every row j of out; rows whose index is -1 (the selection's
//                 padding up to its capacity) become zeros.
//   scatter_rows  out[r] = kept[slot_of[r]] for kept rows, pass[r] for dropped ones (zeros without pass), so
//                 dropped tokens leave the layer bit-identical to how they entered. out may be pass itself.
// A row is `units` UNIT-byte words; TPR = 2^lanes_log2 threads share a row (chosen on the host from the row length),
// so short rows (a score, a narrow head) do not leave most of a warp idle and long rows are read coalesced.
// lacuna-variants: UNIT=16 | UNIT=8 | UNIT=4 | UNIT=2
#include "lacuna_common.cuh"

#ifndef UNIT
#define UNIT 16
#endif
#define THREADS 256

#if UNIT == 16
typedef uint4 Unit;
#define UNIT_ZERO make_uint4(0, 0, 0, 0)
#elif UNIT == 8
typedef uint2 Unit;
#define UNIT_ZERO make_uint2(0, 0)
#elif UNIT == 4
typedef unsigned Unit;
#define UNIT_ZERO 0u
#elif UNIT == 2
typedef unsigned short Unit;
#define UNIT_ZERO ((unsigned short)0)
#else
#error "UNIT must be 16, 8, 4 or 2"
#endif

extern "C" __global__ void __launch_bounds__(THREADS)
gather_rows(const Unit* __restrict__ x, long long x_rows, const int* __restrict__ kept_index, Unit* __restrict__ out,
            long long out_rows, int units, int lanes_log2) {
    const int lane = threadIdx.x & ((1 << lanes_log2) - 1);
    const long long rows_per_step = (long long)(THREADS >> lanes_log2) * gridDim.x;
    for (long long row = (long long)blockIdx.x * (THREADS >> lanes_log2) + (threadIdx.x >> lanes_log2); row < out_rows;
         row += rows_per_step) {
        const int source = kept_index[row];
        const bool valid = source >= 0 && source < x_rows;
        const Unit* from = x + (long long)source * units;
        Unit* to = out + row * units;
        for (int u = lane; u < units; u += 1 << lanes_log2) {
            to[u] = valid ? from[u] : UNIT_ZERO;
        }
    }
}

extern "C" __global__ void __launch_bounds__(THREADS)
scatter_rows(const Unit* __restrict__ kept, long long kept_rows, const int* __restrict__ slot_of, const Unit* pass,
             Unit* out, long long rows, int units, int lanes_log2) {
    const int lane = threadIdx.x & ((1 << lanes_log2) - 1);
    const long long rows_per_step = (long long)(THREADS >> lanes_log2) * gridDim.x;
    for (long long row = (long long)blockIdx.x * (THREADS >> lanes_log2) + (threadIdx.x >> lanes_log2); row < rows;
         row += rows_per_step) {
        const int slot = slot_of[row];
        const bool is_kept = slot >= 0 && slot < kept_rows;
        if (!is_kept && pass == out) {
            continue;  // in place: a dropped row already holds its pass-through value
        }
        const Unit* from = is_kept ? kept + (long long)slot * units : pass + row * units;
        Unit* to = out + row * units;
        if (is_kept || pass != nullptr) {
            for (int u = lane; u < units; u += 1 << lanes_log2) {
                to[u] = from[u];
            }
        } else {
            for (int u = lane; u < units; u += 1 << lanes_log2) {
                to[u] = UNIT_ZERO;
            }
        }
    }
}

// One fp32 value per row of a row-major [rows, cols] matrix: the sum, the maximum, or the L2 norm (token scoring
// in the attention family uses the norm). One block per row; fp32 accumulation, warp shuffles, then shared memory.
// lacuna-variants: T_IN=f32 OP=sum | T_IN=f32 OP=max | T_IN=f32 OP=l2 | T_IN=f16 OP=l2 | T_IN=bf16 OP=sum | T_IN=f16 OP=max
#include "lacuna_common.cuh"

#ifndef T_IN
#define T_IN f32
#endif
#ifndef OP
#define OP sum
#endif
#ifndef BLOCK
#define BLOCK 256
#endif

#define LACUNA_REDUCE_sum 0
#define LACUNA_REDUCE_max 1
#define LACUNA_REDUCE_l2 2
#define REDUCE_OP LACUNA_CAT(LACUNA_REDUCE_, OP)

typedef LacunaStorage<LACUNA_DTYPE_ID(T_IN)> In;

__device__ __forceinline__ float combine(float a, float b) {
#if REDUCE_OP == LACUNA_REDUCE_max
    return fmaxf(a, b);
#else
    return a + b;
#endif
}

__device__ __forceinline__ float warp_combine(float v) {
#if REDUCE_OP == LACUNA_REDUCE_max
    return lacuna_warp_max(v);
#else
    return lacuna_warp_sum(v);
#endif
}

extern "C" __global__ void __launch_bounds__(BLOCK)
row_reduce(const typename In::type* __restrict__ x, float* __restrict__ out, long long rows, long long cols) {
    static_assert(BLOCK % 32 == 0 && BLOCK <= 1024, "BLOCK must be whole warps");
    __shared__ float partial[BLOCK / 32];
    const float identity = REDUCE_OP == LACUNA_REDUCE_max ? -__int_as_float(0x7f800000) : 0.0f;
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const typename In::type* line = x + row * cols;
        float acc = identity;
        for (long long c = threadIdx.x; c < cols; c += BLOCK) {
            const float v = In::load(line[c]);
#if REDUCE_OP == LACUNA_REDUCE_l2
            acc = fmaf(v, v, acc);
#else
            acc = combine(acc, v);
#endif
        }
        acc = warp_combine(acc);
        if ((threadIdx.x & 31) == 0) {
            partial[threadIdx.x >> 5] = acc;
        }
        __syncthreads();
        if (threadIdx.x < 32) {
            float v = threadIdx.x < BLOCK / 32 ? partial[threadIdx.x] : identity;
            v = warp_combine(v);
            if (threadIdx.x == 0) {
#if REDUCE_OP == LACUNA_REDUCE_l2
                out[row] = sqrtf(v);
#else
                out[row] = v;
#endif
            }
        }
        __syncthreads();
    }
}

// Element-wise conversion between the floating-point storage types (round to nearest even).
// lacuna-variants: T_IN=f32 T_OUT=f16 | T_IN=f32 T_OUT=bf16 | T_IN=f16 T_OUT=f32 | T_IN=bf16 T_OUT=f32 | T_IN=f16 T_OUT=bf16 | T_IN=bf16 T_OUT=f16
#include "lacuna_common.cuh"

// A conversion, not a copy, when a build names no output type.
#ifndef T_OUT
#define T_OUT f16
#endif
#include "lacuna_variant.cuh"

#ifndef BLOCK
#define BLOCK 256
#endif

extern "C" __global__ void __launch_bounds__(BLOCK)
cast(const typename In::type* __restrict__ x, typename Out::type* __restrict__ y, long long count) {
    const long long stride = (long long)gridDim.x * BLOCK;
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < count; i += stride) {
        y[i] = Out::store(In::load(x[i]));
    }
}
